import { followSeenBySql } from '../../src/modules/relationships/follow-visibility';
import { canSeeRequestSql } from '../../src/modules/requests/request-visibility';
import { StoredRequestStatus } from '../../src/modules/requests/message-request.entity';
import { startTestApp, type TestApp } from '../support/app';
import { FOLLOW_CASES } from '../support/follow-cases';
import { NOW, REQUEST_VISIBILITY_CASES } from '../support/request-visibility-cases';

/** The SQL that decides visibility in bulk answers each case of the pure rules' tables alike. */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('followSeenBySql agrees with relationshipFrom', () => {
  it.each(FOLLOW_CASES)('%s', async (_name, stored, expected) => {
    const [a, b, someone] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    if (stored.aBlocksB) await t.query('INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2)', [a.id, b.id]);
    if (stored.bBlocksA) await t.query('INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2)', [b.id, a.id]);
    // Whether a follows row from `from` to `to` would be seen by `viewer`.
    const seen = async (from: string, to: string, viewer: string | null) => {
      const [row] = await t.query<{ seen: boolean }>(
        `SELECT ${followSeenBySql('f', '$3')} AS seen FROM (SELECT $1::uuid AS follower_id, $2::uuid AS followee_id) f`,
        [from, to, viewer],
      );
      return row.seen;
    };
    if (stored.aFollowsB) {
      expect(await seen(a.id, b.id, a.id)).toBe(expected.aFollowsBAsSeenByA);
      expect(await seen(a.id, b.id, b.id)).toBe(expected.aFollowsB);
      expect(await seen(a.id, b.id, someone.id)).toBe(expected.aFollowsB);
      expect(await seen(a.id, b.id, null)).toBe(expected.aFollowsB);
    }
    if (stored.bFollowsA) {
      expect(await seen(b.id, a.id, a.id)).toBe(expected.bFollowsA);
      expect(await seen(b.id, a.id, someone.id)).toBe(expected.bFollowsA);
    }
  });
});

describe('canSeeRequestSql agrees with canSeeRequest', () => {
  const ids = { sender: '00000000-0000-4000-8000-000000000001', recipient: '00000000-0000-4000-8000-000000000002', someone: '00000000-0000-4000-8000-000000000003' };
  it.each(REQUEST_VISIBILITY_CASES)('%s → %s', async (_name, over, viewer, visible) => {
    const r = { status: StoredRequestStatus.PENDING, deletedAt: null, expiresAt: new Date(NOW.getTime() + 1000), ...over };
    const [row] = await t.query<{ seen: boolean }>(
      `SELECT ${canSeeRequestSql('r', '$1', '$2')} AS seen
         FROM (SELECT $3::uuid AS sender_id, $4::uuid AS recipient_id, $5::text AS status, $6::timestamptz AS deleted_at, $7::timestamptz AS expires_at) r`,
      [ids[viewer], NOW, ids.sender, ids.recipient, r.status, r.deletedAt, r.expiresAt],
    );
    expect(row.seen).toBe(visible);
  });
});
