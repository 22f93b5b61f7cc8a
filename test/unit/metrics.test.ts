import { createMetrics, PROCESS_METRICS_MAX_AGE_MS } from '../../src/graphql/metrics';
import { AdjustableClock } from '../../src/lib/clock';

/** One sample's value in Prometheus text. */
const value = (text: string, name: string): string | undefined => new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];

function burnCpu(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('/metrics rendering', () => {
  it('collects the process metrics at most once per max age, and the app\'s own series on every scrape', async () => {
    let sockets = 1;
    // Set at each step; between steps it moves only by the milliseconds a render takes.
    const clock = new AdjustableClock();
    const start = clock.now();
    const metrics = createMetrics({ activeSockets: () => sockets, activeSubscriptions: () => 0, eventBus: () => 'in-process' }, { defaultMetrics: true, clock });

    const first = await metrics.render();
    expect(value(first, 'graphql_ws_sockets_active')).toBe('1');
    expect(value(first, 'process_open_fds')).toBeDefined();

    // CPU time advances between the two scrapes; within the max age the second shows the
    // same collection of the process metrics, and the socket count as it is now.
    burnCpu(30);
    sockets = 2;
    clock.set(new Date(start.getTime() + PROCESS_METRICS_MAX_AGE_MS / 2));
    const second = await metrics.render();
    expect(value(second, 'graphql_ws_sockets_active')).toBe('2');
    expect(value(second, 'process_cpu_seconds_total')).toBe(value(first, 'process_cpu_seconds_total'));

    clock.set(new Date(start.getTime() + 2 * PROCESS_METRICS_MAX_AGE_MS));
    const third = await metrics.render();
    expect(Number(value(third, 'process_cpu_seconds_total'))).toBeGreaterThan(Number(value(first, 'process_cpu_seconds_total')));

    // A clock stepped back does not freeze them.
    burnCpu(30);
    clock.set(start);
    const fourth = await metrics.render();
    expect(Number(value(fourth, 'process_cpu_seconds_total'))).toBeGreaterThan(Number(value(third, 'process_cpu_seconds_total')));
  });

  it('renders each metric family once, in Prometheus text', async () => {
    const metrics = createMetrics({ activeSockets: () => 0, activeSubscriptions: () => 0, eventBus: () => 'in-process' }, { defaultMetrics: true });
    const text = await metrics.render();
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(new Set(families).size).toBe(families.length);
    expect(families).toEqual(expect.arrayContaining(['graphql_operations_total', 'process_cpu_seconds_total', 'nodejs_active_handles_total']));
  });
});
