import { pairKey } from '../lib/ids';
import { prepared } from './prepared';
import type { Tx } from './transaction';

/**
 * Serialises everything that changes how a pair of accounts stands (requests both ways,
 * accept, delete, block, follow) inside the caller's transaction. Keyed by the sorted
 * pair, so A→B and B→A contend on the same lock. Take it before any row lock on the
 * pair's rows (blocks, follows, requests): one order everywhere, so no two of these
 * transactions wait on each other in a cycle. It is re-entrant within a transaction.
 * (unfollow and unblock, single statements that can let nothing past a rule, go without.)
 *
 * conversations.by-id-locking-pair takes the same key inline; keep the two in step.
 */
export async function lockPair(tx: Tx, a: string, b: string): Promise<void> {
  await prepared(tx.manager, 'pair.lock', 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`pair:${pairKey(a, b)}`]);
}
