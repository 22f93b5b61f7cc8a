import type { DataSource } from 'typeorm';
import { lockPair } from '../../db/pair-lock';
import { prepared } from '../../db/prepared';
import { runInTransaction, type Tx } from '../../db/transaction';
import { badInput } from '../../graphql/errors';
import { pageRequest, toConnection, type ConnectionArgs } from '../../graphql/pagination';
import type { UsersService } from '../users/users.service';
import type { User } from '../users/user.entity';
import { followSeenBySql, relationshipFrom, type Relationship, type StoredPair } from './follow-visibility';

export { NO_RELATIONSHIP, type Relationship } from './follow-visibility';

/** What a viewer may learn of another account's follows ("why am I seeing this"). */
export interface FollowContext {
  /** The other account follows the viewer. */
  followsViewer: boolean;
  /** Accounts the viewer follows that follow the other account. */
  mutualFollowCount: number;
}

/** Other modules react to a block inside the same transaction (requests leave folders…). */
export type BlockHook = (tx: Tx, blockerId: string, blockedId: string) => Promise<void>;

export class RelationshipsService {
  private readonly blockHooks: BlockHook[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
  ) {}

  onBlock(hook: BlockHook): void {
    this.blockHooks.push(hook);
  }

  /**
   * The one batched lookup every rule uses: A's relationship to each of `others`, in two
   * statements whatever the number of others.
   */
  async between(a: string, others: readonly string[], manager = this.dataSource.manager): Promise<Map<string, Relationship>> {
    const stored = new Map<string, StoredPair>(others.map((b) => [b, { aFollowsB: false, bFollowsA: false, aBlocksB: false, bBlocksA: false }]));
    if (others.length === 0) return new Map();
    const ids = [...new Set(others)];
    // Follows and blocks both ways, in one statement (inside a transaction there is one
    // connection, and outside one it saves a round trip).
    const { rows } = await prepared<{ kind: 'follow' | 'block'; from_id: string; to_id: string }>(
      manager,
      'relationships.between',
      `SELECT 'follow' AS kind, follower_id AS from_id, followee_id AS to_id FROM follows
        WHERE (follower_id = $1 AND followee_id = ANY($2::uuid[])) OR (followee_id = $1 AND follower_id = ANY($2::uuid[]))
       UNION ALL
       SELECT 'block', blocker_id, blocked_id FROM blocks
        WHERE (blocker_id = $1 AND blocked_id = ANY($2::uuid[])) OR (blocked_id = $1 AND blocker_id = ANY($2::uuid[]))`,
      [a, ids],
    );
    for (const r of rows) {
      const outgoing = r.from_id === a;
      const rel = stored.get(outgoing ? r.to_id : r.from_id)!;
      if (r.kind === 'follow') {
        if (outgoing) rel.aFollowsB = true;
        else rel.bFollowsA = true;
      } else if (outgoing) rel.aBlocksB = true;
      else rel.bBlocksA = true;
    }
    return new Map([...stored].map(([b, pair]) => [b, relationshipFrom(pair)]));
  }

  async betweenOne(a: string, b: string, manager = this.dataSource.manager): Promise<Relationship> {
    return (await this.between(a, [b], manager)).get(b)!;
  }

  /**
   * Idempotent: the primary key absorbs repeats. Following an account that blocked the
   * viewer succeeds and reads as any follow to the viewer; it counts for no one else (see
   * follow-visibility.ts). The blocks are read under the pair's lock, which a block takes
   * too, so the answer never depends on a block committed while it was being checked.
   */
  async follow(viewerId: string, userId: string): Promise<User> {
    const target = await this.users.requireById(userId);
    if (target.id === viewerId) throw badInput('You cannot follow yourself', 'userId');
    await runInTransaction(this.dataSource, async (tx) => {
      await lockPair(tx, viewerId, target.id);
      const rel = await this.betweenOne(viewerId, target.id, tx.manager);
      // Only the blocker hears of its own block.
      if (rel.aBlocksB) throw badInput('Unblock this account before following it', 'userId');
      await tx.manager.query('INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [viewerId, target.id]);
    });
    return target;
  }

  async unfollow(viewerId: string, userId: string): Promise<User> {
    const target = await this.users.requireById(userId);
    await this.dataSource.query('DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2', [viewerId, target.id]);
    return target;
  }

  /**
   * Blocking removes the blocker's follow of the blocked account. The blocked account's
   * follow of the blocker stays, for its own eyes only: removing it would tell it about the
   * block (follow-visibility.ts).
   */
  async block(viewerId: string, userId: string): Promise<User> {
    const target = await this.users.requireById(userId);
    if (target.id === viewerId) throw badInput('You cannot block yourself', 'userId');
    await runInTransaction(this.dataSource, async (tx) => {
      await this.blockInTx(tx, viewerId, target.id);
    });
    return target;
  }

  /**
   * For callers that block as part of a larger transaction (delete-and-block, report).
   * The pair's lock comes first, before any row lock: sends, follows and request actions
   * on the pair wait for the block, and no two blocks wait on each other in a cycle.
   */
  async blockInTx(tx: Tx, blockerId: string, blockedId: string): Promise<void> {
    await lockPair(tx, blockerId, blockedId);
    await tx.manager.query('INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      blockerId,
      blockedId,
    ]);
    await tx.manager.query(`DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2`, [blockerId, blockedId]);
    for (const hook of this.blockHooks) await hook(tx, blockerId, blockedId);
  }

  async unblock(viewerId: string, userId: string): Promise<User> {
    const target = await this.users.requireById(userId);
    await this.dataSource.query('DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2', [viewerId, target.id]);
    return target;
  }

  async blockedUsers(viewerId: string, args: ConnectionArgs) {
    return this.userList(
      `SELECT blocked_id AS user_id, created_at FROM blocks WHERE blocker_id = $1`,
      viewerId,
      args,
    );
  }

  /** The follows `viewerId` sees (follow-visibility.ts): a follow across a block only by its follower. */
  async followers(userId: string, viewerId: string, args: ConnectionArgs) {
    return this.userList(
      `SELECT follower_id AS user_id, created_at FROM follows f WHERE followee_id = $1 AND ${followSeenBySql('f', '$3')}`,
      userId,
      args,
      viewerId,
    );
  }

  async following(userId: string, viewerId: string, args: ConnectionArgs) {
    return this.userList(
      `SELECT followee_id AS user_id, created_at FROM follows f WHERE follower_id = $1 AND ${followSeenBySql('f', '$3')}`,
      userId,
      args,
      viewerId,
    );
  }

  /**
   * Newest first, keyset on (created_at, user_id); nodes are user ids for the loader.
   * `base` reads the owner as $1 and, when given, `viewerId` as $3.
   */
  private async userList(base: string, ownerId: string, args: ConnectionArgs, viewerId?: string) {
    const page = pageRequest(args, 2);
    const dir = page.forward ? 'DESC' : 'ASC';
    const cmp = page.forward ? '<' : '>';
    const params: unknown[] = [ownerId, page.limit + 1];
    if (viewerId !== undefined) params.push(viewerId);
    let where = '';
    if (page.cursor) {
      params.push(page.cursor[0], page.cursor[1]);
      where = ` AND (created_at, user_id) ${cmp} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    // created_at comes from the database's now(), with microseconds a JS Date would drop:
    // the cursor carries PostgreSQL's own text of it, so rows in the same millisecond are
    // neither skipped nor repeated between pages.
    const rows: Array<{ user_id: string; at: string }> = await this.dataSource.query(
      `SELECT user_id, created_at::text AS at FROM (${base}) s WHERE true${where} ORDER BY created_at ${dir}, user_id ${dir} LIMIT $2`,
      params,
    );
    return toConnection(rows, page, (r) => [r.at, r.user_id], (r) => r.user_id);
  }

  /**
   * FollowContext of `viewerId` towards each of `others`, in one statement however many
   * (a page of requests asks about each sender).
   */
  async followContext(viewerId: string, others: readonly string[]): Promise<Map<string, FollowContext>> {
    const result = new Map<string, FollowContext>(others.map((id) => [id, { followsViewer: false, mutualFollowCount: 0 }]));
    const ids = [...new Set(others)];
    if (ids.length === 0) return result;
    const { rows } = await prepared<{ id: string; follows_viewer: boolean; mutual: number }>(
      this.dataSource.manager,
      'relationships.follow-context',
      `SELECT o.id,
              EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = o.id AND f.followee_id = $1 AND ${followSeenBySql('f', '$1')}) AS follows_viewer,
              (SELECT count(*)::int FROM follows mine JOIN follows theirs ON theirs.follower_id = mine.followee_id
                WHERE mine.follower_id = $1 AND theirs.followee_id = o.id
                  AND ${followSeenBySql('mine', '$1')} AND ${followSeenBySql('theirs', '$1')}) AS mutual
         FROM unnest($2::uuid[]) AS o(id)`,
      [viewerId, ids],
    );
    for (const r of rows) result.set(r.id, { followsViewer: r.follows_viewer, mutualFollowCount: r.mutual });
    return result;
  }

  /**
   * Follower and following counts for many users in one statement, as `viewerId` (null:
   * signed out) sees them: a follow across a block counts only for its follower.
   */
  async counts(userIds: readonly string[], viewerId: string | null): Promise<Map<string, { followers: number; following: number }>> {
    const result = new Map(userIds.map((id) => [id, { followers: 0, following: 0 }]));
    const rows: Array<{ id: string; followers: string; following: string }> = await this.dataSource.query(
      `SELECT u.id,
              (SELECT count(*) FROM follows f WHERE f.followee_id = u.id AND ${followSeenBySql('f', '$2')}) AS followers,
              (SELECT count(*) FROM follows f WHERE f.follower_id = u.id AND ${followSeenBySql('f', '$2')}) AS following
         FROM unnest($1::uuid[]) AS u(id)`,
      [[...new Set(userIds)], viewerId],
    );
    for (const r of rows) result.set(r.id, { followers: Number(r.followers), following: Number(r.following) });
    return result;
  }
}
