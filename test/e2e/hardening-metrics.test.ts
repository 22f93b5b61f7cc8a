import { print } from 'graphql';
import { until } from '../support/until';
import { startTestApp, type TestApp } from '../support/app';
import { MeDocument, OnInboxBadgeChangedDocument, SendMessageRequestDocument } from '../generated/graphql';

/** GET /metrics: Prometheus text, per app instance. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function scrape(app: TestApp = t): Promise<{ contentType: string | null; text: string }> {
  const res = await fetch(app.app.url.replace(/\/graphql$/, '/metrics'));
  expect(res.status).toBe(200);
  return { contentType: res.headers.get('content-type'), text: await res.text() };
}

/** The value of one sample, matched by name and (a subset of) its labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics', () => {
  it('counts and times operations by name, transport and outcome', async () => {
    const user = await t.makeUser();
    await t.ok(MeDocument, {}, user.token);
    await t.ok(MeDocument, {}, user.token);
    const tooDeep = await t.gql(`query TooDeep { me { ${'followers { edges { node { '.repeat(4)}id${' } } }'.repeat(4)} } }`, {}, user.token);
    expect(tooDeep.status).toBe(400);

    const { contentType, text } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'graphql_operations_total', { operation: 'Me', type: 'query', transport: 'http', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'graphql_operation_duration_seconds_count', { operation: 'Me', type: 'query', transport: 'http' })).toBe(2);
    expect(sample(text, 'graphql_operation_duration_seconds_sum', { operation: 'Me', transport: 'http' })).toBeGreaterThan(0);
    expect(sample(text, 'graphql_operations_total', { operation: 'TooDeep', transport: 'http', outcome: 'refused' })).toBe(1);
  });

  it('reports open sockets and subscriptions, WebSocket operations and the publish lag of delivered events', async () => {
    const recipient = await t.makeUser();
    const sender = await t.makeUser();
    const before = await scrape();
    expect(sample(before.text, 'graphql_ws_sockets_active')).toBe(0);
    expect(sample(before.text, 'graphql_subscriptions_active')).toBe(0);
    const lagBefore = sample(before.text, 'event_publish_lag_seconds_count') ?? 0;

    const badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, recipient.token);
    const during = await scrape();
    expect(sample(during.text, 'graphql_ws_sockets_active')).toBe(1);
    expect(sample(during.text, 'graphql_subscriptions_active')).toBe(1);
    expect(sample(during.text, 'graphql_operations_total', { operation: 'OnInboxBadgeChanged', type: 'subscription', transport: 'ws', outcome: 'ok' })).toBe(1);

    await t.ok(SendMessageRequestDocument, { input: { recipientId: recipient.id, text: 'hello' } }, sender.token);
    await badge.next();
    const after = await scrape();
    const lagCount = sample(after.text, 'event_publish_lag_seconds_count')!;
    expect(lagCount).toBeGreaterThan(lagBefore);
    // In one process the lag is far under a second.
    expect(sample(after.text, 'event_publish_lag_seconds_bucket', { le: '1' })).toBe(lagCount);
    expect(sample(after.text, 'graphql_operations_total', { operation: 'SendMessageRequest', type: 'mutation', transport: 'http', outcome: 'ok' })).toBe(1);

    await badge.close();
    // The client has gone; the server notices the close a moment later.
    const closed = await until('the server to count the socket closed', async () => {
      const scraped = await scrape();
      return sample(scraped.text, 'graphql_ws_sockets_active') === 0 && scraped;
    });
    expect(sample(closed.text, 'graphql_ws_sockets_active')).toBe(0);
    expect(sample(closed.text, 'graphql_subscriptions_active')).toBe(0);
  });

  it('counts a query over WebSocket under transport "ws"', async () => {
    const user = await t.makeUser();
    const client = t.wsClient(user.token);
    await new Promise<void>((resolve, reject) =>
      client.subscribe({ query: print(MeDocument) }, { next: () => undefined, error: reject, complete: resolve }),
    );
    await client.dispose();
    const { text } = await scrape();
    expect(sample(text, 'graphql_operations_total', { operation: 'Me', type: 'query', transport: 'ws', outcome: 'ok' })).toBe(1);
  });

  it('keeps client-chosen operation names from growing the label set without bound', async () => {
    const user = await t.makeUser();
    await t.gql('query Weird_Name_1 { me { id } }', {}, user.token);
    for (let i = 0; i < 220; i++) await t.gql(`query Spam${i} { me { id } }`, {}, user.token);
    const { text } = await scrape();
    const names = new Set([...text.matchAll(/^graphql_operations_total\{operation="([^"]*)"/gm)].map((m) => m[1]));
    // At most 200 names, plus "(other)" and "(anonymous)".
    expect(names.size).toBeLessThanOrEqual(202);
    expect(sample(text, 'graphql_operations_total', { operation: '(other)', outcome: 'ok' })).toBeGreaterThan(0);
  });

  it('keeps one registry per app: another instance starts from zero', async () => {
    const other = await startTestApp();
    try {
      const { text } = await scrape(other);
      expect(sample(text, 'graphql_operations_total', { operation: 'Me' })).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('with METRICS_TOKEN set, answers only that bearer token', async () => {
    const token = 'scrape-token-0123456789';
    const guarded = await startTestApp({ METRICS_TOKEN: token });
    try {
      const url = guarded.app.url.replace(/\/graphql$/, '/metrics');
      const status = async (headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;
      expect(await status()).toBe(401);
      expect(await status({ authorization: `Bearer ${token}x` })).toBe(401);
      expect(await status({ authorization: token })).toBe(401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('graphql_operations_total');
      // The GraphQL endpoint does not take the scrape token for a user's.
      expect((await guarded.gql(MeDocument, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await guarded.close();
    }
  });
});
