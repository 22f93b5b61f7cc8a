import WebSocket from 'ws';
import { startTestApp, type TestApp, type TestUser } from '../support/app';
import {
  AcceptMessageRequestDocument,
  OnInboxBadgeChangedDocument,
  OnMessageRequestReceivedDocument,
  SendMessageRequestDocument,
} from '../generated/graphql';
import { createLogger } from '../../src/lib/logger';
import { EventRetentionJob } from '../../src/modules/notifications/event-retention';
import { until } from '../support/until';

/**
 * SPEC §5 "nothing is lost across a reconnect": the per-account event log, its cursors
 * (1, 2, 3… per account, no gaps, no duplicates, even under concurrent writers), catch-up
 * with events(after:), retention pruning, and no leaked listener when a client vanishes.
 */
let t: TestApp;
beforeAll(async () => {
  // Without a coalescing window every badge event is its own inboxBadgeChanged, which the
  // exactly-once checks below count (coalescing is tested in mute-receipts-badge.test.ts).
  t = await startTestApp({ MESSAGE_RATE_PER_SECOND: '1000', MESSAGE_RATE_BURST: '1000', DAILY_MESSAGE_REQUEST_LIMIT: '1000', INBOX_BADGE_COALESCE_MS: '0' });
});
afterAll(() => t.close());
afterEach(() => t.clock.reset());

const DAY = 86_400_000;

interface LogEntry {
  cursor: string;
  type: string;
}

const EVENTS_PAGE = `query($after: String, $first: Int) { events(after: $after, first: $first) { cursor type request { id } } }`;

/** The account's whole log through the API, oldest first. */
async function eventsAfter(user: TestUser, after: string | null, first = 100): Promise<LogEntry[]> {
  const res = await t.gql<{ events: LogEntry[] }, { after: string | null; first: number }>(EVENTS_PAGE, { after, first }, user.token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.events.map((e) => ({ cursor: e.cursor, type: e.type }));
}

/** The account's log as stored (cursor, type), oldest first. */
async function storedLog(user: TestUser): Promise<LogEntry[]> {
  const rows = await t.query<{ seq: string; type: string }>('SELECT seq::text AS seq, type FROM events WHERE user_id = $1 ORDER BY events.seq', [user.id]);
  return rows.map((r) => ({ cursor: r.seq, type: r.type }));
}

const send = async (from: TestUser, to: TestUser, text = 'hello') =>
  (await t.ok(SendMessageRequestDocument, { input: { recipientId: to.id, text } }, from.token)).sendMessageRequest;

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => String(from + i));

const isIncreasing = (cursors: string[]) => cursors.every((c, i) => i === 0 || BigInt(c) > BigInt(cursors[i - 1]));

describe('catch-up after a reconnect: live events plus events(after) cover the log exactly once', () => {
  it('a client that goes away and comes back misses nothing and sees nothing twice', async () => {
    const b = await t.makeUser();
    const senders = await Promise.all(Array.from({ length: 6 }, () => t.makeUser()));
    const baseline = t.app.services.events.listenerCount();

    // Online: two subscriptions, as the app's inbox screen holds them.
    let received = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    let badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);
    const r0 = await send(senders[0], b, 'first');
    const r1 = await send(senders[1], b, 'second');
    await t.ok(AcceptMessageRequestDocument, { id: r0.id }, b.token);
    // 2 sends × (received + badge) + 1 accept × badge = 5 events, all delivered live.
    const live: string[] = [];
    const liveReceived: string[] = [];
    const liveBadge: string[] = [];
    for (let i = 0; i < 2; i++) liveReceived.push((await received.next()).messageRequestReceived.cursor);
    for (let i = 0; i < 3; i++) liveBadge.push((await badge.next()).inboxBadgeChanged.cursor);
    expect(isIncreasing(liveReceived)).toBe(true);
    expect(isIncreasing(liveBadge)).toBe(true);
    live.push(...liveReceived, ...liveBadge);
    const lastCursor = live.map(BigInt).reduce((a, c) => (c > a ? c : a)).toString();
    expect(lastCursor).toBe('5');

    // Away: the sockets close; the server's listeners end (a real signal, no sleep).
    await received.close();
    await badge.close();
    await until('listeners to end', () => t.app.services.events.listenerCount() === baseline);
    const r2 = await send(senders[2], b, 'while away 1');
    await send(senders[3], b, 'while away 2');
    await t.ok(AcceptMessageRequestDocument, { id: r1.id }, b.token); // from another device
    await t.ok(AcceptMessageRequestDocument, { id: r2.id }, b.token);
    await send(senders[4], b, 'while away 3');

    // Back: resubscribe, then catch up from the last cursor seen.
    received = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    badge = await t.subscribe(OnInboxBadgeChangedDocument, {}, b.token);
    const missed = await eventsAfter(b, lastCursor);
    const missedCursors = missed.map((e) => e.cursor);
    expect(isIncreasing(missedCursors)).toBe(true);

    const log = await storedLog(b);
    // 3 sends × 2 + 2 accepts × 1 = 8 events while away.
    expect(log.map((e) => e.cursor)).toEqual(range(1, 13));
    const union = [...live, ...missedCursors];
    expect(new Set(union).size).toBe(union.length); // nothing twice
    expect([...union].sort((x, y) => Number(x) - Number(y))).toEqual(log.map((e) => e.cursor)); // nothing missing
    expect(missed).toEqual(log.slice(5)); // and with the right types, in order
    expect(await eventsAfter(b, null)).toEqual(log);

    // The new subscriptions carry on from there: the next event is cursor 14, then 15.
    await send(senders[5], b, 'after the reconnect');
    expect((await received.next()).messageRequestReceived.cursor).toBe('14');
    expect((await badge.next()).inboxBadgeChanged.cursor).toBe('15');
    expect((await eventsAfter(b, '13')).map((e) => e.cursor)).toEqual(['14', '15']);
    await received.close();
    await badge.close();
  });
});

describe('cursors under concurrent writers', () => {
  it('30 parallel sends to one account from 30 senders: cursors are exactly 1..60, events(after: k) is exactly the rest', async () => {
    const b = await t.makeUser();
    const senders = await Promise.all(Array.from({ length: 30 }, () => t.makeUser()));
    const results = await Promise.all(
      senders.map((s, i) => t.gql(SendMessageRequestDocument, { input: { recipientId: b.id, text: `parallel ${i}` } }, s.token)),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    const requestIds = results.map((r) => r.data!.sendMessageRequest.id);

    const log = await storedLog(b);
    const n = log.length;
    expect(n).toBe(60); // each send: MESSAGE_REQUEST_RECEIVED + INBOX_BADGE_CHANGED
    expect(log.map((e) => e.cursor)).toEqual(range(1, n));
    expect(log.filter((e) => e.type === 'MESSAGE_REQUEST_RECEIVED')).toHaveLength(30);

    // Every request's MESSAGE_REQUEST_RECEIVED is in the log exactly once.
    const all = await t.gql<{ events: Array<{ cursor: string; type: string; request: { id: string } | null }> }, { first: number }>(EVENTS_PAGE, { first: 100 }, b.token);
    const seen = all.data!.events.filter((e) => e.type === 'MESSAGE_REQUEST_RECEIVED').map((e) => e.request!.id);
    expect([...seen].sort()).toEqual([...requestIds].sort());

    for (let k = 0; k <= n; k++) {
      expect((await eventsAfter(b, String(k))).map((e) => e.cursor)).toEqual(range(k + 1, n));
    }
    // Paging with `first` walks the same log, page by page.
    const paged: string[] = [];
    for (let after: string | null = null; ; ) {
      const page = await eventsAfter(b, after, 7);
      if (page.length === 0) break;
      paged.push(...page.map((e) => e.cursor));
      after = page[page.length - 1].cursor;
    }
    expect(paged).toEqual(range(1, n));
  });
});

describe('a client that drops mid-subscription', () => {
  it('leaves no leaked iterator: listenerCount returns to its previous value', async () => {
    const b = await t.makeUser();
    const before = t.app.services.events.listenerCount();
    let socket: WebSocket | null = null;
    const client = t.wsClient(b.token, { on: { connected: (s) => void (socket = s as WebSocket) } });
    const sink = { next: () => undefined, error: () => undefined, complete: () => undefined };
    client.subscribe({ query: 'subscription { messageRequestReceived { cursor } }' }, sink);
    client.subscribe({ query: 'subscription { inboxBadgeChanged { cursor } }' }, sink);
    await until('both subscriptions to start', () => t.app.services.events.listenerCount() === before + 2);

    // Kill the TCP connection: no `complete`, no close frame.
    socket!.terminate();
    await until('the server to end both listeners', () => t.app.services.events.listenerCount() === before);

    // And the server still delivers to others (the dead socket's listeners really are gone).
    const other = await t.subscribe(OnMessageRequestReceivedDocument, {}, b.token);
    expect(t.app.services.events.listenerCount()).toBe(before + 1);
    const a = await t.makeUser();
    const sent = await send(a, b);
    expect((await other.next()).messageRequestReceived.request.id).toBe(sent.id);
    await other.close();
    await until('the last listener to end', () => t.app.services.events.listenerCount() === before);
  });

  it('the same when the socket dies while an event is being delivered', async () => {
    const b = await t.makeUser();
    const senders = await Promise.all(Array.from({ length: 5 }, () => t.makeUser()));
    const before = t.app.services.events.listenerCount();
    let socket: WebSocket | null = null;
    const client = t.wsClient(b.token, { on: { connected: (s) => void (socket = s as WebSocket) } });
    let got = 0;
    client.subscribe({ query: 'subscription { inboxBadgeChanged { cursor badge { pendingRequestCount } } }' }, { next: () => void got++, error: () => undefined, complete: () => undefined });
    await until('the subscription to start', () => t.app.services.events.listenerCount() === before + 1);
    const sends = senders.map((s) => send(s, b));
    await until('a first event', () => got > 0);
    socket!.terminate();
    await Promise.all(sends);
    await until('the listener to end', () => t.app.services.events.listenerCount() === before);
  });
});

describe('retention', () => {
  it('events older than EVENT_RETENTION_DAYS are pruned by the app’s job; newer stay with their cursors', async () => {
    expect(t.config.events.retentionDays).toBe(30);
    // The app ran the job once at start.
    await until('the start-up run', () => t.app.eventRetention.runs >= 1);

    const b = await t.makeUser();
    const old = await Promise.all([t.makeUser(), t.makeUser()]);
    for (const s of old) await send(s, b, 'old'); // cursors 1..4, at day 0
    t.clock.advance(2 * DAY);
    const mid = await t.makeUser();
    await send(mid, b, 'middle'); // cursors 5..6, at day 2
    t.clock.advance(29 * DAY + 60_000); // now day 31: day-0 events are 31 days old, day-2 ones 29
    const fresh = await t.makeUser();
    await send(fresh, b, 'fresh'); // cursors 7..8
    const before = await eventsAfter(b, null);
    // The day-0 requests aged out on day 30: their MESSAGE_REQUEST_RECEIVED entries (1, 3)
    // are left out, as live delivery would leave them (leaks.test.ts); their badge entries stay.
    expect(before.map((e) => e.cursor)).toEqual(['2', '4', '5', '6', '7', '8']);

    // Two instances pruning at once is harmless: the app's own job and another one.
    const other = new EventRetentionJob(t.app.services.events, t.config.events.retentionDays, createLogger('silent'));
    const deleted = await Promise.all([t.app.eventRetention.runOnce(), other.runOnce()]);
    expect(deleted[0] + deleted[1]).toBeGreaterThanOrEqual(4);

    const after = await eventsAfter(b, null);
    expect(after).toEqual(before.slice(2)); // same cursors, same types, same order
    expect(await eventsAfter(b, '2')).toEqual(before.slice(2)); // a pruned cursor still works
    expect(await eventsAfter(b, '6')).toEqual(before.slice(4));
    // Numbering carries on after pruning: no cursor is ever reused.
    const later = await t.makeUser();
    await send(later, b, 'later');
    expect((await eventsAfter(b, '8')).map((e) => e.cursor)).toEqual(['9', '10']);
    await other.stop();
  });

  it('the job runs on its interval (unref’d) and stops cleanly', async () => {
    const b = await t.makeUser();
    const s = await t.makeUser();
    await send(s, b, 'to be pruned');
    t.clock.advance(31 * DAY);
    const job = new EventRetentionJob(t.app.services.events, 30, createLogger('silent'), 25).start();
    await until('two runs', () => job.runs >= 2);
    expect(await storedLog(b)).toEqual([]);
    await job.stop();
    const runs = job.runs;
    expect(await job.runOnce()).toBe(0); // stopped: no more runs
    expect(job.runs).toBe(runs);
  });
});
