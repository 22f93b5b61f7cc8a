import { openConversation } from '../support/conversations';
import { startTestApp, type TestApp } from '../support/app';
import { runInTransaction } from '../../src/db/transaction';
import { syncIntroVisibility } from '../../src/modules/requests/intro-visibility';
import { canSeeRequest } from '../../src/modules/requests/request-visibility';
import { NOW, REQUEST_VISIBILITY_CASES, request } from '../support/request-visibility-cases';

/**
 * The statement that hides intros (messages.hidden_for) decides for each request's recipient
 * exactly as canSeeRequest does: one table of cases drives both (SPEC §8: a deleted text
 * never resurfaces, and nothing the recipient may see is hidden).
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('syncIntroVisibility hides an intro from its recipient exactly when canSeeRequest says so', () => {
  const recipientCases = REQUEST_VISIBILITY_CASES.filter(([, , viewer]) => viewer === 'recipient');
  it.each(recipientCases)('%s → %s', async (_name, over) => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const conversationId = await openConversation(t, a, b, 'the intro');
    const r = request(over);
    const [intro] = await t.query<{ id: string }>('SELECT id FROM messages WHERE conversation_id = $1', [conversationId]);
    await t.query(
      `INSERT INTO message_requests (sender_id, recipient_id, conversation_id, message_id, text, status, created_at, expires_at, deleted_at, accepted_at)
       VALUES ($1, $2, $3, $4, 'the intro', $5, $6, $7, $8, $9)`,
      [a.id, b.id, conversationId, intro.id, r.status, NOW, r.expiresAt, r.deletedAt, r.status === 'ACCEPTED' ? NOW : null],
    );
    await runInTransaction(t.app.dataSource, (tx) => syncIntroVisibility(tx, a.id, b.id, NOW));
    const [row] = await t.query<{ hidden_for: string | null }>('SELECT hidden_for FROM messages WHERE id = $1', [intro.id]);
    expect(row.hidden_for).toBe(canSeeRequest(r, 'recipient', NOW) ? null : b.id);
  });
});
