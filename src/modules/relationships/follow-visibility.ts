/**
 * Who sees a follow. A follow made across a block (the followee has blocked the follower)
 * is kept for the follower, who sees it exactly as any follow, so that nothing it can
 * read tells "X blocked me" from "X ignores me" (SPEC §8). For everyone else — the
 * blocker above all — and for every messaging rule it does not exist. When the block is
 * lifted it counts again: the follower never stopped following, as far as it could tell.
 *
 * The pure rule (relationshipFrom) and the SQL that decides the same thing in bulk
 * (followSeenBySql) are tested against one table of cases (test/support/follow-cases.ts).
 */

/** Rows as stored between A and B: follows and blocks in both directions. */
export interface StoredPair {
  aFollowsB: boolean;
  bFollowsA: boolean;
  aBlocksB: boolean;
  bBlocksA: boolean;
}

/** How account A stands to account B, as the rules and the two accounts see it. */
export interface Relationship extends StoredPair {
  /** A follows B and it counts: not across a block by B (what B, the rules and everyone else see). */
  aFollowsB: boolean;
  /** B follows A and it counts: not across a block by A. */
  bFollowsA: boolean;
  /** A's own follow of B, counted or not: what A itself sees (`isFollowing`). */
  aFollowsBAsSeenByA: boolean;
}

export const NO_RELATIONSHIP: Relationship = { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false, aFollowsBAsSeenByA: false };

export function relationshipFrom(stored: StoredPair): Relationship {
  return {
    aFollowsB: stored.aFollowsB && !stored.bBlocksA,
    bFollowsA: stored.bFollowsA && !stored.aBlocksB,
    aBlocksB: stored.aBlocksB,
    bBlocksA: stored.bBlocksA,
    aFollowsBAsSeenByA: stored.aFollowsB,
  };
}

/**
 * SQL: whether the follows row `f` is visible to the account in parameter `viewer` (null:
 * to no one in particular), as relationshipFrom decides for a pair: unless its followee
 * has blocked its follower, or the viewer is the follower itself.
 */
export function followSeenBySql(f: string, viewer: string): string {
  return `(${f}.follower_id IS NOT DISTINCT FROM ${viewer}::uuid
           OR NOT EXISTS (SELECT 1 FROM blocks fb WHERE fb.blocker_id = ${f}.followee_id AND fb.blocked_id = ${f}.follower_id))`;
}
