import type { Relationship, StoredPair } from '../../src/modules/relationships/follow-visibility';

/**
 * Who sees a follow (follow-visibility.ts), one table for the pure rule
 * (test/unit/follow-visibility.test.ts) and its SQL (test/e2e/visibility-sql.test.ts).
 * [name, rows stored between A and B, the relationship A has to B]
 */
export const FOLLOW_CASES: Array<[string, StoredPair, Relationship]> = [
  ['nothing', pair(), rel()],
  ['A follows B', pair({ aFollowsB: true }), rel({ aFollowsB: true, aFollowsBAsSeenByA: true })],
  ['each follows the other', pair({ aFollowsB: true, bFollowsA: true }), rel({ aFollowsB: true, bFollowsA: true, aFollowsBAsSeenByA: true })],
  ['A follows B, who blocked A: only A sees it', pair({ aFollowsB: true, bBlocksA: true }), rel({ bBlocksA: true, aFollowsBAsSeenByA: true })],
  ['B follows A, whom A blocked: A does not see it', pair({ bFollowsA: true, aBlocksB: true }), rel({ aBlocksB: true })],
  ['A follows B and blocked B: its own block hides nothing from B', pair({ aFollowsB: true, aBlocksB: true }), rel({ aFollowsB: true, aBlocksB: true, aFollowsBAsSeenByA: true })],
  [
    'each follows and blocked the other',
    pair({ aFollowsB: true, bFollowsA: true, aBlocksB: true, bBlocksA: true }),
    rel({ aBlocksB: true, bBlocksA: true, aFollowsBAsSeenByA: true }),
  ],
];

function pair(over: Partial<StoredPair> = {}): StoredPair {
  return { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false, ...over };
}

function rel(over: Partial<Relationship> = {}): Relationship {
  return { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false, aFollowsBAsSeenByA: false, ...over };
}
