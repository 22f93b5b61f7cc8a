import { startTestApp, codeOf, birthDateForAge, PASSWORD, type TestApp } from '../support/app';
import {
  LogInDocument,
  MeDocument,
  SearchUsersDocument,
  SignUpDocument,
  UpdateMessagingSettingsDocument,
  UpdateProfileDocument,
  UserByNameDocument,
} from '../generated/graphql';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const signUpInput = (over: Partial<{ username: string; password: string; displayName: string; birthDate: string }> = {}) => ({
  username: `new_${Math.random().toString(36).slice(2, 10)}`,
  password: PASSWORD,
  displayName: 'New Person',
  birthDate: birthDateForAge(25),
  ...over,
});

async function userCount(): Promise<number> {
  const [{ n }] = await t.query<{ n: string }>('SELECT count(*) AS n FROM users');
  return Number(n);
}

describe('signUp', () => {
  it.each([
    ['a username with a space', { username: 'has space' }, 'username'],
    ['a one-character username', { username: 'a' }, 'username'],
    ['a 25-character username', { username: 'a'.repeat(25) }, 'username'],
    ['a username with a dash', { username: 'no-dash' }, 'username'],
    ['a 51-character display name', { displayName: 'x'.repeat(51) }, 'displayName'],
    ['an empty display name', { displayName: '   ' }, 'displayName'],
    ['a short password', { password: 'short' }, 'password'],
    ['a malformed birth date', { birthDate: '2000-02-30' }, 'birthDate'],
    ['a birth date in the future', { birthDate: '2999-01-01' }, 'birthDate'],
    ['someone under 13', { birthDate: birthDateForAge(12, new Date(), -1) }, 'birthDate'],
  ])('refuses %s with BAD_USER_INPUT and writes nothing', async (_name, over, field) => {
    const before = await userCount();
    const res = await t.gql(SignUpDocument, { input: signUpInput(over) });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe(field);
    expect(res.status).toBeLessThan(500);
    expect(await userCount()).toBe(before);
  });

  it('accepts someone who turns 13 today', async () => {
    const res = await t.gql(SignUpDocument, { input: signUpInput({ birthDate: birthDateForAge(13) }) });
    expect(res.errors).toBeUndefined();
  });

  it('refuses a username taken in another case', async () => {
    const name = `dup_${Math.random().toString(36).slice(2, 8)}`;
    await t.ok(SignUpDocument, { input: signUpInput({ username: name }) });
    const before = await userCount();
    const res = await t.gql(SignUpDocument, { input: signUpInput({ username: name.toUpperCase() }) });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/taken/);
    expect(await userCount()).toBe(before);
  });

  it('gives adults EVERYONE and 16–17 NOBODY by default, and shows birthDate only to its owner', async () => {
    const adult = await t.ok(SignUpDocument, { input: signUpInput() });
    expect(adult.signUp.user.directMessagePolicy).toBe('EVERYONE');
    const teen = await t.ok(SignUpDocument, { input: signUpInput({ birthDate: birthDateForAge(16) }) });
    expect(teen.signUp.user.directMessagePolicy).toBe('NOBODY');

    const mine = await t.ok(MeDocument, {}, teen.signUp.token);
    expect(mine.me.birthDate).toBe(birthDateForAge(16));
    const seenByOther = await t.ok(UserByNameDocument, { username: teen.signUp.user.username }, adult.signUp.token);
    expect(seenByOther.user!.birthDate).toBeNull();
    expect(seenByOther.user!.directMessagePolicy).toBeNull();
  });
});

describe('logIn', () => {
  it('says the same for a wrong password and an unknown username', async () => {
    const u = await t.makeUser();
    const wrong = await t.gql(LogInDocument, { input: { username: u.username, password: 'not the password' } });
    const unknown = await t.gql(LogInDocument, { input: { username: 'nobody_here_x', password: 'not the password' } });
    expect(codeOf(wrong)).toBe('UNAUTHENTICATED');
    expect(codeOf(unknown)).toBe('UNAUTHENTICATED');
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
  });

  it('logs in with the right password, case-insensitively by username', async () => {
    const u = await t.makeUser();
    const res = await t.ok(LogInDocument, { input: { username: u.username.toUpperCase(), password: PASSWORD } });
    expect(res.logIn.user.id).toBe(u.id);
    const me = await t.ok(MeDocument, {}, res.logIn.token);
    expect(me.me.id).toBe(u.id);
  });

  it('throttles repeated failures with RATE_LIMITED and retryAfter, even for the right password', async () => {
    const u = await t.makeUser();
    const limit = t.config.limits.loginFailuresPer15Min;
    for (let i = 0; i < limit; i++) {
      const res = await t.gql(LogInDocument, { input: { username: u.username, password: 'wrong password' } });
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
    }
    const blocked = await t.gql(LogInDocument, { input: { username: u.username, password: PASSWORD } });
    expect(codeOf(blocked)).toBe('RATE_LIMITED');
    expect(blocked.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
  });
});

describe('authentication', () => {
  it('requires a token for me, and refuses a forged one', async () => {
    expect(codeOf(await t.gql(MeDocument, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(MeDocument, {}, 'not.a.token'))).toBe('UNAUTHENTICATED');
    const u = await t.makeUser();
    const forged = u.token.slice(0, -4) + (u.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(codeOf(await t.gql(MeDocument, {}, forged))).toBe('UNAUTHENTICATED');
  });

  it('closes a WebSocket without a token, or with a bad one, with 4403', async () => {
    for (const token of [null, 'garbage']) {
      const client = t.wsClient(token);
      const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
      client.subscribe({ query: 'subscription { inboxBadgeChanged { cursor } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      expect(await closed).toBe(4403);
    }
  });
});

describe('profile and settings', () => {
  it('updates display name and avatar, refusing a non-https avatar', async () => {
    const u = await t.makeUser();
    const ok = await t.ok(UpdateProfileDocument, { input: { displayName: 'Renamed', avatarUrl: 'https://cdn.example/a.png' } }, u.token);
    expect(ok.updateProfile.displayName).toBe('Renamed');
    const bad = await t.gql(UpdateProfileDocument, { input: { avatarUrl: 'http://insecure.example/a.png' } }, u.token);
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    const me = await t.ok(MeDocument, {}, u.token);
    expect(me.me.avatarUrl).toBe('https://cdn.example/a.png');
  });

  it.each([
    [30, 'EVERYONE', true],
    [30, 'FOLLOWING', true],
    [17, 'FOLLOWING', true],
    [17, 'EVERYONE', false],
    [16, 'EVERYONE', false],
    [15, 'FOLLOWING', false],
    [15, 'NOBODY', true],
  ] as const)('age %i choosing %s → allowed %s', async (age, policy, allowed) => {
    const u = await t.makeUser({ birthDate: birthDateForAge(age), policy: 'NOBODY' });
    const res = await t.gql(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: policy } }, u.token);
    if (allowed) {
      expect(res.data!.updateMessagingSettings.directMessagePolicy).toBe(policy);
    } else {
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      const me = await t.ok(MeDocument, {}, u.token);
      expect(me.me.directMessagePolicy).toBe('NOBODY');
    }
  });

  it('applies the age at the moment of the change: 17 cannot pick EVERYONE until the 18th birthday', async () => {
    const u = await t.makeUser({ birthDate: birthDateForAge(18, new Date(), -1), policy: 'FOLLOWING' });
    const before = await t.gql(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'EVERYONE' } }, u.token);
    expect(codeOf(before)).toBe('BAD_USER_INPUT');
    t.clock.advance(2 * 86_400_000);
    try {
      const after = await t.ok(UpdateMessagingSettingsDocument, { input: { directMessagePolicy: 'EVERYONE' } }, u.token);
      expect(after.updateMessagingSettings.directMessagePolicy).toBe('EVERYONE');
    } finally {
      t.clock.reset();
    }
  });
});

describe('searchUsers', () => {
  it('matches prefixes of username and display name, paginated', async () => {
    const tag = Math.random().toString(36).slice(2, 7);
    await t.makeUser({ username: `zz${tag}_one` });
    await t.makeUser({ username: `zz${tag}_two` });
    await t.makeUser({ displayName: `Zz${tag} Display` });
    const viewer = await t.makeUser();
    const page1 = await t.ok(SearchUsersDocument, { query: `zz${tag}`, first: 2 }, viewer.token);
    expect(page1.searchUsers.edges).toHaveLength(2);
    expect(page1.searchUsers.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.ok(SearchUsersDocument, { query: `zz${tag}`, first: 2, after: page1.searchUsers.pageInfo.endCursor }, viewer.token);
    expect(page2.searchUsers.edges).toHaveLength(1);
    expect(page2.searchUsers.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a page size over 100 and a forged cursor', async () => {
    const viewer = await t.makeUser();
    expect(codeOf(await t.gql(SearchUsersDocument, { query: 'a', first: 101 }, viewer.token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(SearchUsersDocument, { query: 'a', after: '!!nope' }, viewer.token))).toBe('BAD_USER_INPUT');
  });
});

