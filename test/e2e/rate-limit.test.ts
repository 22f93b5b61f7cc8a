import { startTestApp, codeOf, type TestApp, type TestUser } from '../support/app';
import { AcceptMessageRequestDocument, SendMessageDocument, SendMessageRequestDocument } from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

function send(from: TestUser, to: TestUser) {
  return t.gql(SendMessageRequestDocument, { input: { recipientId: to.id, text: 'hi, loved your video' } }, from.token);
}

async function requestsFrom(sender: TestUser): Promise<number> {
  const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM message_requests WHERE sender_id = $1', [sender.id]);
  return Number(n);
}

describe('send rate limit (messages ~5/s, bursts of 10)', () => {
  it('answers RATE_LIMITED with retryAfter past the burst, per account, and lets sends through again later', async () => {
    const burst = t.config.limits.messageRateBurst;
    expect(burst).toBe(10);
    const sender = await t.makeUser();
    const recipients = await Promise.all(Array.from({ length: burst + 1 }, () => t.makeUser()));

    const results = await Promise.all(recipients.map((r) => send(sender, r)));
    const sent = results.filter((r) => !r.errors);
    const limited = results.filter((r) => codeOf(r) === 'RATE_LIMITED');
    // The window (burst / rate = 2 s) outlasts the parallel burst: exactly the burst passes.
    expect(sent).toHaveLength(burst);
    expect(limited).toHaveLength(1);
    const retryAfter = limited[0].errors![0].extensions!.retryAfter as number;
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(burst / t.config.limits.messageRatePerSecond));
    // A refused send wrote nothing.
    expect(await requestsFrom(sender)).toBe(sent.length);

    // Another account has its own budget.
    const other = await t.makeUser();
    expect((await send(other, recipients[0])).errors).toBeUndefined();

    // Once retryAfter has passed (real time: the limit is counted in PostgreSQL), sends go through.
    const unsent = recipients.filter((_, i) => results[i].errors);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expect((await send(sender, unsent[0])).errors).toBeUndefined();
  });

  it('limits sendMessage the same way', async () => {
    const burst = t.config.limits.messageRateBurst;
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const request = await t.ok(SendMessageRequestDocument, { input: { recipientId: b.id, text: 'hi' } }, a.token);
    await t.ok(AcceptMessageRequestDocument, { id: request.sendMessageRequest.id }, b.token);
    const conversationId = request.sendMessageRequest.conversation.id;
    const results = await Promise.all(
      Array.from({ length: burst + 1 }, (_, i) => t.gql(SendMessageDocument, { input: { conversationId, text: `message ${i}` } }, b.token)),
    );
    const limited = results.filter((r) => codeOf(r) === 'RATE_LIMITED');
    expect(limited).toHaveLength(1);
    expect(results.filter((r) => !r.errors)).toHaveLength(burst);
    expect(limited[0].errors![0].extensions!.retryAfter).toBeGreaterThan(0);
  });

  it('lets anonymous calls through to the resolver (UNAUTHENTICATED)', async () => {
    const someone = await t.makeUser();
    const res = await t.gql(SendMessageRequestDocument, { input: { recipientId: someone.id, text: 'hi' } });
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
  });
});
