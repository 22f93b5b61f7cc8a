import { RECIPIENT_SEES_SQL } from '../../src/modules/requests/intro-visibility';
import { canSeeRequest } from '../../src/modules/requests/request-visibility';
import { startTestApp, type TestApp } from '../support/app';
import { NOW, VISIBILITY_CASES, request } from '../support/request-visibility-cases';

/**
 * The bulk SQL that hides intros from their recipient must decide exactly as the pure rule
 * does for the recipient (the same table drives both: SPEC §8, a deleted text never
 * resurfaces, and nothing the recipient may see is hidden).
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('RECIPIENT_SEES_SQL agrees with canSeeRequest for the recipient', () => {
  const recipientCases = VISIBILITY_CASES.filter(([, , viewer]) => viewer === 'recipient');
  it.each(recipientCases)('%s → %s', async (_name, over) => {
    const r = request(over);
    const [row] = await t.query<{ sees: boolean }>(
      `SELECT ${RECIPIENT_SEES_SQL('r', '$4')} AS sees FROM (SELECT $1::text AS status, $2::timestamptz AS deleted_at, $3::timestamptz AS expires_at) r`,
      [r.status, r.deletedAt, r.expiresAt, NOW],
    );
    expect(row.sees).toBe(canSeeRequest(r, 'recipient', NOW));
  });
});
