import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { systemClock, type Clock } from '../lib/clock';

export type Transport = 'http' | 'ws';
/** ok: answered without errors; error: executed with errors; refused: stopped before execution. */
export type Outcome = 'ok' | 'error' | 'refused';

export interface OperationSample {
  operation: string | null | undefined;
  type: string | null | undefined;
  transport: Transport;
  outcome: Outcome;
  seconds: number;
}

export interface MetricsSources {
  /** Open WebSocket connections on this instance. */
  activeSockets: () => number;
  /** Open subscription streams on this instance (EventsService.listenerCount()). */
  activeSubscriptions: () => number;
  /** How events travel between instances right now (see Bus.status in pubsub.ts). */
  eventBus: () => 'in-process' | 'ready' | 'degraded';
}

export interface Metrics {
  observeOperation(sample: OperationSample): void;
  /** An event reached a subscriber on this instance `seconds` after it was published. */
  observePublishLag(seconds: number): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

// Operation names come from clients: bounded so a client cannot blow up the label set.
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const MAX_NAMES = 200;
const TYPES = new Set(['query', 'mutation', 'subscription']);

/**
 * How old the process metrics of a scrape may be (prom-client's defaults: CPU, memory, GC,
 * open files, handles). Three of them cost time in proportion to the open sockets: open
 * files lists /proc/self/fd, handles and resources list every handle of the process. With
 * 10,000 sockets open that was 10–20 ms of the event loop per scrape (docs/performance.md),
 * and /metrics may be open to anyone (METRICS_TOKEN unset): polled in a loop it would stall
 * every client of the instance. Within this age, scrapes share one collection.
 */
export const PROCESS_METRICS_MAX_AGE_MS = 1000;

/**
 * One Registry per app (never prom-client's global one): tests start many apps in one
 * process, and two instances in one process must not share counters.
 */
export function createMetrics(sources: MetricsSources, options: { defaultMetrics?: boolean; clock?: Clock } = {}): Metrics {
  const registry = new Registry();
  const processMetrics = options.defaultMetrics ? sharedCollection(options.clock ?? systemClock) : null;

  const requests = new Counter({
    name: 'graphql_operations_total',
    help: 'GraphQL operations by name, type, transport and outcome.',
    labelNames: ['operation', 'type', 'transport', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'Time to answer a GraphQL operation (for subscriptions: to set it up).',
    labelNames: ['operation', 'type', 'transport'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'graphql_ws_sockets_active',
    help: 'Open graphql-ws connections on this instance.',
    registers: [registry],
    collect() {
      this.set(sources.activeSockets());
    },
  });
  new Gauge({
    name: 'graphql_subscriptions_active',
    help: 'Open subscription streams on this instance.',
    registers: [registry],
    collect() {
      this.set(sources.activeSubscriptions());
    },
  });
  new Gauge({
    name: 'event_bus_ready',
    help: '1 while events reach other instances (Redis connected, or in-process only); 0 while Redis is unreachable (mutations still commit; clients catch up with events(after)).',
    labelNames: ['mode'] as const,
    registers: [registry],
    collect() {
      const status = sources.eventBus();
      this.reset();
      this.set({ mode: status === 'in-process' ? 'in-process' : 'redis' }, status === 'degraded' ? 0 : 1);
    },
  });
  const lag = new Histogram({
    name: 'event_publish_lag_seconds',
    help: 'From publishing an event (after its commit) to its arrival at a subscriber on this instance, through Redis when configured.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const series = new Map<string, { duration: { observe(value: number): void }; outcomes: Map<string, { inc(): void }> }>();
  const names = new Set<string>();
  const nameLabel = (name: string | null | undefined): string => {
    if (!name) return '(anonymous)';
    if (!NAME.test(name)) return '(other)';
    if (names.has(name)) return name;
    if (names.size >= MAX_NAMES) return '(other)';
    names.add(name);
    return name;
  };

  return {
    contentType: registry.contentType,
    observeOperation({ operation, type, transport, outcome, seconds }) {
      const name = nameLabel(operation);
      const kind = type && TYPES.has(type) ? type : 'unknown';
      // The labelled children are kept: prom-client otherwise hashes the labels on every
      // call, which showed in the profile of the trivial query. Bounded like the names.
      const key = `${name}\u0000${kind}\u0000${transport}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = { duration: duration.labels(name, kind, transport), outcomes: new Map() }));
      let counter = s.outcomes.get(outcome);
      if (!counter) s.outcomes.set(outcome, (counter = requests.labels(name, kind, transport, outcome)));
      counter.inc();
      s.duration.observe(seconds);
    },
    observePublishLag(seconds) {
      lag.observe(Math.max(0, seconds));
    },
    // The app's own series are always read fresh: they are few, and a scrape that waits for
    // subscriptions to reach a count (an operator, the bench) must see the current one.
    render: async () => {
      const [own, processText] = await Promise.all([registry.metrics(), processMetrics?.() ?? '']);
      return processText ? `${own}\n${processText}` : own;
    },
  };
}

/** prom-client's default metrics in a registry of their own, collected at most once per PROCESS_METRICS_MAX_AGE_MS. */
function sharedCollection(clock: Clock): () => Promise<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let last: { at: number; text: Promise<string> } | null = null;
  return () => {
    const now = clock.now().getTime();
    // A clock stepped back (NTP) counts as expired, or the metrics would freeze until it caught up.
    if (!last || now - last.at >= PROCESS_METRICS_MAX_AGE_MS || now < last.at) {
      const text = registry.metrics();
      const current = { at: now, text };
      last = current;
      // A failed collection is not kept: the next scrape tries again.
      text.catch(() => {
        if (last === current) last = null;
      });
    }
    return last.text;
  };
}

/** Seconds since a process.hrtime.bigint() reading. */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
