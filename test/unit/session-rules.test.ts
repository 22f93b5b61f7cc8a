import { isLive, revokes, type Revocation } from '../../src/modules/users/session-rules';

const token = { userId: 'u1', jti: 'j1', epoch: 2, expMs: 10_000 };

describe('revokes', () => {
  it.each<[string, Revocation, boolean]>([
    ['logOut of this token', { userId: 'u1', jti: 'j1' }, true],
    ['logOut of another token of the account', { userId: 'u1', jti: 'j2' }, false],
    ['a jti of another account', { userId: 'u2', jti: 'j1' }, false],
    ['a password change after this token', { userId: 'u1', epochBefore: 3 }, true],
    ['a password change that issued this token', { userId: 'u1', epochBefore: 2 }, false],
    ["another account's password change", { userId: 'u2', epochBefore: 9 }, false],
    ['nothing named', { userId: 'u1' }, false],
  ])('%s → %s', (_name, revocation, expected) => {
    expect(revokes(revocation, token)).toBe(expected);
  });
});

describe('isLive', () => {
  it.each<[string, { accountEpoch: number | null; revoked: boolean }, number, boolean]>([
    ['current epoch, not revoked, unexpired', { accountEpoch: 2, revoked: false }, 9_999, true],
    ['at its expiry', { accountEpoch: 2, revoked: false }, 10_000, false],
    ['revoked by logOut', { accountEpoch: 2, revoked: true }, 0, false],
    ['an older epoch (password changed)', { accountEpoch: 3, revoked: false }, 0, false],
    ['a later epoch than the account has', { accountEpoch: 1, revoked: false }, 0, false],
    ['the account is gone', { accountEpoch: null, revoked: false }, 0, false],
  ])('%s → %s', (_name, standing, now, expected) => {
    expect(isLive(token, standing, now)).toBe(expected);
  });
});
