import { startTestApp, codeOf, type TestApp } from '../support/app';
import { holdingPair, waitingOnPairLock } from '../support/locks';
import { BlockUserDocument, BlockedUsersDocument, FollowDocument, FollowersDocument, MeDocument, UnblockUserDocument, UnfollowDocument, UserByNameDocument } from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('follow and unfollow', () => {
  it('are idempotent and keep exact counts, both directions shown', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(FollowDocument, { userId: b.id }, a.token);
    const again = await t.ok(FollowDocument, { userId: b.id }, a.token);
    expect(again.follow).toMatchObject({ followerCount: 1, isFollowing: true, followsYou: false });
    const seenByB = await t.ok(UserByNameDocument, { username: a.username }, b.token);
    expect(seenByB.user).toMatchObject({ followingCount: 1, isFollowing: false, followsYou: true });
    await t.ok(UnfollowDocument, { userId: b.id }, a.token);
    const after = await t.ok(UnfollowDocument, { userId: b.id }, a.token);
    expect(after.unfollow).toMatchObject({ followerCount: 0, isFollowing: false });
  });

  it('counts exactly under 30 concurrent follows (some repeated)', async () => {
    const star = await t.makeUser();
    const fans = await Promise.all(Array.from({ length: 15 }, () => t.makeUser()));
    const results = await Promise.all([...fans, ...fans].map((f) => t.gql(FollowDocument, { userId: star.id }, f.token)));
    expect(results.every((r) => !r.errors)).toBe(true);
    const me = await t.ok(MeDocument, {}, star.token);
    expect(me.me.followerCount).toBe(15);
    const list = await t.ok(FollowersDocument, { username: star.username, first: 10 }, star.token);
    expect(list.user!.followers.edges).toHaveLength(10);
    expect(list.user!.followers.pageInfo.hasNextPage).toBe(true);
    const rest = await t.ok(FollowersDocument, { username: star.username, first: 10, after: list.user!.followers.pageInfo.endCursor }, star.token);
    expect(rest.user!.followers.edges).toHaveLength(5);
    const all = new Set([...list.user!.followers.edges, ...rest.user!.followers.edges].map((e) => e.node.id));
    expect(all).toEqual(new Set(fans.map((f) => f.id)));
  });

  it('refuses following oneself or an unknown account, writing nothing', async () => {
    const a = await t.makeUser();
    expect(codeOf(await t.gql(FollowDocument, { userId: a.id }, a.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(FollowDocument, { userId: '00000000-0000-4000-8000-000000000000' }, a.token))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql(FollowDocument, { userId: 'not-a-uuid' }, a.token))).toBe('NOT_FOUND');
    const [{ n }] = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM follows WHERE follower_id = $1', [a.id]);
    expect(n).toBe(0);
  });

  it('requires a token', async () => {
    const b = await t.makeUser();
    expect(codeOf(await t.gql(FollowDocument, { userId: b.id }))).toBe('UNAUTHENTICATED');
  });
});

describe('blocks', () => {
  it('are stored, listed, end the blocker’s follows and hide the blocked one’s; unblocking restores nothing the blocker had', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(FollowDocument, { userId: b.id }, a.token);
    await t.ok(FollowDocument, { userId: a.id }, b.token);
    expect((await t.ok(BlockUserDocument, { userId: b.id }, a.token)).blockUser.isBlocked).toBe(true);
    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    const list = await t.ok(BlockedUsersDocument, {}, a.token);
    expect(list.blockedUsers.edges.map((e) => e.node.id)).toEqual([b.id]);
    const seen = await t.ok(UserByNameDocument, { username: b.username }, a.token);
    expect(seen.user).toMatchObject({ isFollowing: false, followsYou: false });
    // The blocker may not follow while it blocks; the blocked account's follow reads as any (no-oracle.test.ts).
    expect(codeOf(await t.gql(FollowDocument, { userId: b.id }, a.token))).toBe('BAD_USER_INPUT');
    expect((await t.ok(FollowDocument, { userId: a.id }, b.token)).follow).toMatchObject({ isFollowing: true });
    await t.ok(UnblockUserDocument, { userId: b.id }, a.token);
    expect((await t.ok(BlockedUsersDocument, {}, a.token)).blockedUsers.edges).toHaveLength(0);
    expect((await t.ok(UserByNameDocument, { username: b.username }, a.token)).user).toMatchObject({ isFollowing: false, followsYou: true });
  });

  it('a follow racing a block waits for it, then lands unseen by the blocker', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    const block = await holdingPair(t, b, a, (tx) => t.app.services.relationships.blockInTx(tx, b.id, a.id));
    let answered = false;
    const following = t.gql(FollowDocument, { userId: b.id }, a.token).then((res) => ((answered = true), res));
    await waitingOnPairLock(t, () => answered);
    expect(answered).toBe(false);
    await block.commit();
    expect((await following).data!.follow).toMatchObject({ isFollowing: true, followerCount: 1 });
    expect((await t.ok(MeDocument, {}, b.token)).me.followerCount).toBe(0);
  });

  it('a block takes the pair before any follow row, the order delete-and-block uses: they cannot deadlock', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(FollowDocument, { userId: b.id }, a.token);
    await t.ok(FollowDocument, { userId: a.id }, b.token);
    // As deleteMessageRequest(block: true) does: the pair's lock first, rows after.
    const other = await holdingPair(t, a, b);
    let answered = false;
    const blocking = t.ok(BlockUserDocument, { userId: a.id }, b.token).then((res) => ((answered = true), res));
    await waitingOnPairLock(t, () => answered);
    // While the block waits for the pair, it holds no follow row the other could need.
    const [free] = await t.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM follows WHERE follower_id IN ($1, $2) AND followee_id IN ($1, $2) FOR UPDATE NOWAIT) f`,
      [a.id, b.id],
    );
    expect(free.n).toBe(2);
    await other.commit();
    expect((await blocking).blockUser.isBlocked).toBe(true);
    // The blocker's follow is gone; the blocked account's stays, for its own eyes.
    expect(await t.query('SELECT follower_id FROM follows WHERE follower_id IN ($1, $2)', [a.id, b.id])).toEqual([{ follower_id: a.id }]);
  });

  it('the blocked account cannot see who it is blocked by', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    expect((await t.ok(BlockedUsersDocument, {}, b.token)).blockedUsers.edges).toHaveLength(0);
  });
});
