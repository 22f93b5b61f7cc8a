import { prepared } from '../../db/prepared';
import type { Tx } from '../../db/transaction';
import { canSeeRequestSql } from './request-visibility';

const SYNC_INTRO_VISIBILITY = `
  UPDATE messages m SET hidden_for = v.hidden_for
    FROM (SELECT r.message_id, CASE WHEN ${canSeeRequestSql('r', 'r.recipient_id', '$3')} THEN NULL ELSE r.recipient_id END AS hidden_for
            FROM message_requests r
           WHERE (r.sender_id = $1 AND r.recipient_id = $2) OR (r.sender_id = $2 AND r.recipient_id = $1)) v
   WHERE m.id = v.message_id AND m.hidden_for IS DISTINCT FROM v.hidden_for`;

/**
 * Which intros a recipient sees, when one conversation holds several requests between a
 * pair (one per attempt: a request deleted, withdrawn or aged out leaves its intro in the
 * pair's conversation). SPEC §8: "a deleted request's text never resurfaces through a later
 * request's conversation". An intro is hidden from its request's recipient
 * (messages.hidden_for) unless the recipient can see the request itself: canSeeRequestSql
 * with the request's own recipient as the viewer (the bulk form of canSeeRequest, tested
 * against the same table of cases: test/e2e/visibility-sql.test.ts, intro-visibility.test.ts).
 *
 * Run after any change that makes a request of the pair visible again to its recipient
 * in a conversation that already has history: a new visible request, an accept (crossing
 * included), a direct send, a restore. One statement; it touches only the pair's intros
 * whose visibility changed.
 */
export async function syncIntroVisibility(tx: Tx, a: string, b: string, now: Date): Promise<void> {
  await prepared(tx.manager, 'requests.sync-intro-visibility', SYNC_INTRO_VISIBILITY, [a, b, now]);
}
