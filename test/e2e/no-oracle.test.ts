import { birthDateForAge, startTestApp, type TestApp, type TestUser } from '../support/app';
import {
  BlockUserDocument,
  BlockedUsersDocument,
  FollowDocument,
  FollowersDocument,
  FollowingDocument,
  MeDocument,
  SearchUsersDocument,
  UnblockUserDocument,
  UnfollowDocument,
  UserByNameDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** A user's fields minus those that name it: what must read the same for every target. */
function shape(user: { id: string; username: string; displayName: string } & Record<string, unknown>) {
  const { id: _id, username: _username, displayName: _displayName, ...rest } = user;
  return rest;
}

describe('nothing an account can call tells "blocked me", "under 16" and "messages off" apart (SPEC §8)', () => {
  it('follow, unfollow, user fields, lists and search answer the same for all three', async () => {
    const prefix = `tgt${Date.now().toString(36).slice(-5)}`;
    const viewer = await t.makeUser();
    const blocker = await t.makeUser({ username: `${prefix}_a` });
    const minor = await t.makeUser({ username: `${prefix}_b`, birthDate: birthDateForAge(15, t.clock.now()), policy: 'NOBODY' });
    const off = await t.makeUser({ username: `${prefix}_c`, policy: 'NOBODY' });
    await t.ok(BlockUserDocument, { userId: viewer.id }, blocker.token);
    const targets: TestUser[] = [blocker, minor, off];

    const followed = await Promise.all(targets.map((x) => t.ok(FollowDocument, { userId: x.id }, viewer.token)));
    expect(followed.map((r) => shape(r.follow))).toEqual(targets.map(() => shape(followed[2].follow)));
    expect(followed[0].follow).toMatchObject({ isFollowing: true, followsYou: false, followerCount: 1, followingCount: 0 });

    const viewed = await Promise.all(targets.map((x) => t.ok(UserByNameDocument, { username: x.username }, viewer.token)));
    expect(viewed.map((r) => shape(r.user!))).toEqual(targets.map(() => shape(followed[2].follow)));
    for (const x of targets) {
      const followers = await t.ok(FollowersDocument, { username: x.username }, viewer.token);
      expect(followers.user!.followers.edges.map((e) => e.node.id)).toEqual([viewer.id]);
    }
    const mine = await t.ok(FollowingDocument, { username: viewer.username }, viewer.token);
    expect(new Set(mine.user!.following.edges.map((e) => e.node.id))).toEqual(new Set(targets.map((x) => x.id)));
    expect((await t.ok(MeDocument, {}, viewer.token)).me.followingCount).toBe(3);
    const found = await t.ok(SearchUsersDocument, { query: prefix }, viewer.token);
    expect(found.searchUsers.edges.map((e) => e.node.id)).toEqual(targets.map((x) => x.id));
    expect((await t.ok(BlockedUsersDocument, {}, viewer.token)).blockedUsers.edges).toEqual([]);

    const unfollowed = await Promise.all(targets.map((x) => t.ok(UnfollowDocument, { userId: x.id }, viewer.token)));
    expect(unfollowed.map((r) => shape(r.unfollow))).toEqual(targets.map(() => shape(unfollowed[2].unfollow)));
    expect(unfollowed[0].unfollow).toMatchObject({ isFollowing: false, followerCount: 0 });
  });

  it('the blocker never sees a follow from the account it blocked, and no one else does', async () => {
    const [blocker, blocked, other] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    await t.ok(BlockUserDocument, { userId: blocked.id }, blocker.token);
    await t.ok(FollowDocument, { userId: blocker.id }, blocked.token);
    expect((await t.ok(MeDocument, {}, blocker.token)).me.followerCount).toBe(0);
    expect((await t.ok(UserByNameDocument, { username: blocked.username }, blocker.token)).user).toMatchObject({ followsYou: false, followingCount: 0 });
    expect((await t.ok(FollowersDocument, { username: blocker.username }, blocker.token)).user!.followers.edges).toEqual([]);
    expect((await t.ok(UserByNameDocument, { username: blocker.username }, other.token)).user).toMatchObject({ followerCount: 0 });
    expect((await t.ok(FollowersDocument, { username: blocker.username }, other.token)).user!.followers.edges).toEqual([]);
    expect((await t.ok(FollowingDocument, { username: blocked.username }, other.token)).user!.following.edges).toEqual([]);
    // The follower itself sees its follow, and itself among the followers.
    expect((await t.ok(UserByNameDocument, { username: blocker.username }, blocked.token)).user).toMatchObject({ isFollowing: true, followerCount: 1 });
    expect((await t.ok(MeDocument, {}, blocked.token)).me.followingCount).toBe(1);
  });
});

describe('a block does not visibly change the blocked account’s follow', () => {
  it('isFollowing and the counts it reads stay as they were; the blocker stops seeing the follow; unblocking lets it count again', async () => {
    const [a, b, other] = [await t.makeUser(), await t.makeUser(), await t.makeUser()];
    await t.ok(FollowDocument, { userId: a.id }, b.token);
    const before = (await t.ok(UserByNameDocument, { username: a.username }, b.token)).user;
    expect(before).toMatchObject({ isFollowing: true, followerCount: 1 });

    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    expect((await t.ok(UserByNameDocument, { username: a.username }, b.token)).user).toEqual(before);
    expect((await t.ok(MeDocument, {}, b.token)).me.followingCount).toBe(1);
    // A follow again is the idempotent no-op it always is.
    expect((await t.ok(FollowDocument, { userId: a.id }, b.token)).follow).toEqual(before);
    // For the blocker and everyone else the follow is gone.
    expect((await t.ok(MeDocument, {}, a.token)).me.followerCount).toBe(0);
    expect((await t.ok(UserByNameDocument, { username: b.username }, a.token)).user).toMatchObject({ followsYou: false });
    expect((await t.ok(UserByNameDocument, { username: a.username }, other.token)).user).toMatchObject({ followerCount: 0 });

    await t.ok(UnblockUserDocument, { userId: b.id }, a.token);
    expect((await t.ok(UserByNameDocument, { username: b.username }, a.token)).user).toMatchObject({ followsYou: true });
    expect((await t.ok(MeDocument, {}, a.token)).me.followerCount).toBe(1);
    expect((await t.ok(UserByNameDocument, { username: a.username }, b.token)).user).toEqual(before);
  });

  it('the blocker’s own follow of the blocked account ends, as an unfollow would', async () => {
    const [a, b] = [await t.makeUser(), await t.makeUser()];
    await t.ok(FollowDocument, { userId: b.id }, a.token);
    await t.ok(BlockUserDocument, { userId: b.id }, a.token);
    expect((await t.ok(UserByNameDocument, { username: a.username }, b.token)).user).toMatchObject({ followsYou: false, followingCount: 0 });
    expect((await t.ok(MeDocument, {}, b.token)).me.followerCount).toBe(0);
  });
});
