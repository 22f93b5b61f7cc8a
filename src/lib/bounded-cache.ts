/**
 * A Map that forgets its oldest entry beyond `max` entries and, with `maxAgeMs`, any
 * entry older than that: expired entries are dropped as new ones arrive (insertion order
 * is age order), so what it holds is bounded by time as well as by count.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, { value: V; at: number }>();

  constructor(
    private readonly max: number,
    private readonly maxAgeMs = Infinity,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at >= this.maxAgeMs) {
      this.map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) return;
    const at = this.now();
    if (this.maxAgeMs !== Infinity) {
      for (const [oldest, entry] of this.map) {
        if (at - entry.at < this.maxAgeMs) break;
        this.map.delete(oldest);
      }
    }
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, { value, at });
  }

  /** The values still within their maximum age, oldest first (to update them in place). */
  *values(): IterableIterator<V> {
    const now = this.now();
    for (const entry of this.map.values()) if (now - entry.at < this.maxAgeMs) yield entry.value;
  }

  get size(): number {
    return this.map.size;
  }
}
