/**
 * Preloaded into the benchmarked server processes (`node --expose-gc -r dist/bench/probe.js …`).
 * It changes nothing in the server: it only answers the bench's IPC questions about the
 * process itself (memory after a full GC), so memory per subscriber is measured on live
 * objects, not on garbage not yet collected.
 */
type Question = { id: number; cmd: 'mem' };

if (typeof process.send === 'function') {
  process.on('message', (q: Question) => {
    if (!q || q.cmd !== 'mem') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      gc();
    }
    const m = process.memoryUsage();
    process.send!({ id: q.id, mem: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers } });
  });
  // The IPC channel must not keep a server alive that is trying to exit.
  (process.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
}
