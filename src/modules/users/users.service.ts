import { In, type DataSource, type Repository } from 'typeorm';
import { ADULT_AGE, MIN_MESSAGING_AGE, MIN_SIGN_UP_AGE, ageAt, isIsoDate } from '../../lib/age';
import type { Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import type { Limiter } from '../../lib/rate-limit';
import { hasBidiControls, hasControlCharacters } from '../../lib/text';
import { AppError, badInput, notFound } from '../../graphql/errors';
import { pageRequest, toConnection, type ConnectionArgs } from '../../graphql/pagination';
import { isUniqueViolation } from '../../db/transaction';
import { preparedRow } from '../../db/prepared';
import type { AuthService } from './auth.service';
import type { SessionsService } from './sessions.service';
import { DirectMessagePolicy, Role, User } from './user.entity';
import type { ChangePasswordInput, LogInInput, MessagingSettingsInput, SignUpInput, UpdateProfileInput } from './users.inputs';

const USERNAME = /^[a-z0-9._]{2,24}$/;

/** Sign-up and log-in each cost an argon2 hash: limited per username and per client address. */
export interface AccountLimits {
  /** Log-in attempts per username (LOGIN_FAILURES_PER_15_MIN); a success resets it. */
  logIn: Limiter;
  /** Every log-in attempt per client address (LOGIN_ATTEMPTS_PER_IP_PER_15_MIN). */
  logInPerIp: Limiter;
  /** Sign-ups per client address (SIGNUPS_PER_IP_PER_HOUR). */
  signUpPerIp: Limiter;
}

export class UsersService {
  private readonly users: Repository<User>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly clock: Clock,
    private readonly limits: AccountLimits,
  ) {
    this.users = dataSource.getRepository(User);
  }

  /** `ip`: the client's rate-limit key (lib/ip.ts); null for the operator's own scripts (seed), not limited. */
  async signUp(input: SignUpInput, ip: string | null): Promise<{ token: string; user: User }> {
    const username = normaliseUsername(input.username);
    if (!USERNAME.test(username)) {
      throw badInput('Username must be 2–24 characters of a-z, 0-9, "." and "_"', 'username');
    }
    checkPassword(input.password, 'password');
    const displayName = checkDisplayName(input.displayName);
    if (!isIsoDate(input.birthDate)) throw badInput('Birth date must be a date in YYYY-MM-DD form', 'birthDate');
    const now = this.clock.now();
    const age = ageAt(input.birthDate, now);
    if (new Date(`${input.birthDate}T00:00:00Z`) > now || age > 130) throw badInput('Birth date is not plausible', 'birthDate');
    if (age < MIN_SIGN_UP_AGE) throw badInput(`You must be at least ${MIN_SIGN_UP_AGE} to sign up`, 'birthDate');

    // Taken before the hash, and before the name check so that answers about taken names
    // are throttled too.
    const gate = ip === null ? { allowed: true as const } : await this.limits.signUpPerIp.consume(ip);
    if (!gate.allowed) throw new AppError('RATE_LIMITED', 'Too many sign-ups from this network; try again later', { retryAfter: gate.retryAfter });
    // A name known to be taken costs no hash (the unique index still decides races).
    if (await this.users.existsBy({ username })) throw badInput('That username is taken', 'username');
    const passwordHash = await this.auth.hashPassword(input.password);
    const user = this.users.create({
      username,
      displayName,
      avatarUrl: null,
      birthDate: input.birthDate,
      passwordHash,
      verified: false,
      role: Role.USER,
      directMessagePolicy: age >= ADULT_AGE ? DirectMessagePolicy.EVERYONE : DirectMessagePolicy.NOBODY,
      hideOffensiveRequests: true,
      readReceipts: true,
      sessionEpoch: 0,
      createdAt: now,
    });
    try {
      await this.users.insert(user);
    } catch (err) {
      if (isUniqueViolation(err, 'users_username_key')) throw badInput('That username is taken', 'username');
      throw err;
    }
    return { token: await this.auth.issueToken(user.id, user.sessionEpoch), user };
  }

  /**
   * The same answer for an unknown username and a wrong password, in the same time.
   * Attempts are counted per username and per client address in PostgreSQL, so
   * throttling holds across instances.
   */
  async logIn(input: LogInInput, ip: string): Promise<{ token: string; user: User }> {
    const username = normaliseUsername(input.username).slice(0, 64);
    await this.takeLogInAttempt(username, ip);
    const user = USERNAME.test(username) ? await this.users.findOneBy({ username }) : null;
    const ok = await this.auth.verifyPassword(user?.passwordHash ?? null, input.password.slice(0, 256));
    if (!user || !ok) throw new AppError('UNAUTHENTICATED', 'Wrong username or password');
    await this.limits.logIn.reset(`login:${username}`);
    return { token: await this.auth.issueToken(user.id, user.sessionEpoch), user };
  }

  /**
   * Verifies the current password (an attempt against the log-in limits, like logIn),
   * sets the new one and moves the account's session epoch on in the same statement:
   * every token issued before stops working on every instance, and their sockets close.
   * Answers a fresh token so the caller stays signed in.
   */
  async changePassword(viewerId: string, input: ChangePasswordInput, ip: string): Promise<{ token: string; user: User }> {
    checkPassword(input.newPassword, 'newPassword');
    const user = await this.requireById(viewerId);
    await this.takeLogInAttempt(user.username, ip);
    if (!(await this.auth.verifyPassword(user.passwordHash, input.currentPassword.slice(0, 256)))) {
      // Not UNAUTHENTICATED: the session is fine, and clients sign out on that code.
      throw badInput('The current password is wrong', 'currentPassword');
    }
    await this.limits.logIn.reset(`login:${user.username}`);
    const passwordHash = await this.auth.hashPassword(input.newPassword);
    const row = await preparedRow<{ epoch: number }>(
      this.dataSource.manager,
      'users.change-password',
      'UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch AS epoch',
      [viewerId, passwordHash],
    );
    if (!row) throw notFound('User not found');
    const epoch = row.epoch;
    this.sessions.endEpochsBefore(viewerId, epoch);
    return { token: await this.auth.issueToken(viewerId, epoch), user: { ...user, passwordHash, sessionEpoch: epoch } };
  }

  /**
   * Spends one log-in attempt, per username and per client address, BEFORE any password
   * is verified: with N attempts left at most N passwords are ever checked, even when
   * they all arrive at once (each consume is one atomic upsert in PostgreSQL).
   */
  private async takeLogInAttempt(username: string, ip: string): Promise<void> {
    const spent = await Promise.all([this.limits.logIn.consume(`login:${username}`), this.limits.logInPerIp.consume(ip)]);
    const refused = spent.filter((r) => !r.allowed);
    if (refused.length) {
      const retryAfter = Math.max(...refused.map((r) => (r.allowed ? 0 : r.retryAfter)));
      throw new AppError('RATE_LIMITED', 'Too many log-in attempts; try again later', { retryAfter });
    }
  }

  async byId(id: string): Promise<User | null> {
    return isUuid(id) ? this.users.findOneBy({ id }) : null;
  }

  async requireById(id: string): Promise<User> {
    const user = await this.byId(id);
    if (!user) throw notFound('User not found');
    return user;
  }

  async byIds(ids: readonly string[]): Promise<User[]> {
    const valid = ids.filter(isUuid);
    return valid.length ? this.users.findBy({ id: In(valid) }) : [];
  }

  async byUsername(username: string): Promise<User | null> {
    const name = normaliseUsername(username);
    return USERNAME.test(name) ? this.users.findOneBy({ username: name }) : null;
  }

  /** Prefix match on username or display name, ordered by username (keyset). */
  async search(query: string, args: ConnectionArgs) {
    const q = query.trim().toLowerCase();
    if (q.length < 1 || q.length > 50 || hasControlCharacters(q)) throw badInput('Query must be 1–50 characters', 'query');
    const page = pageRequest(args, 1);
    const pattern = q.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    const qb = this.users
      .createQueryBuilder('u')
      .where('(u.username LIKE :pattern OR lower(u.display_name) LIKE :pattern)', { pattern })
      .orderBy('u.username', page.forward ? 'ASC' : 'DESC')
      .limit(page.limit + 1);
    if (page.cursor) qb.andWhere(`u.username ${page.forward ? '>' : '<'} :after`, { after: page.cursor[0] });
    const rows = await qb.getMany();
    return toConnection(rows, page, (u) => [u.username]);
  }

  async updateProfile(viewerId: string, input: UpdateProfileInput): Promise<User> {
    const patch: Partial<User> = {};
    if (input.displayName != null) patch.displayName = checkDisplayName(input.displayName);
    if (input.avatarUrl !== undefined) patch.avatarUrl = input.avatarUrl === null ? null : checkAvatarUrl(input.avatarUrl);
    if (Object.keys(patch).length) await this.users.update({ id: viewerId }, patch);
    return this.requireById(viewerId);
  }

  /**
   * Policy: 16–17 may choose NOBODY or FOLLOWING; under 16 only NOBODY; adults anything.
   * Read receipts: anyone, either way. Settings left out stay as they are.
   */
  async updateMessagingSettings(viewerId: string, input: MessagingSettingsInput): Promise<User> {
    const user = await this.requireById(viewerId);
    const patch: Partial<User> = {};
    const policy = input.directMessagePolicy;
    if (policy != null) {
      const age = ageAt(user.birthDate, this.clock.now());
      if (age < MIN_MESSAGING_AGE && policy !== DirectMessagePolicy.NOBODY) {
        throw badInput(`Direct messages are unavailable under ${MIN_MESSAGING_AGE}`, 'directMessagePolicy');
      }
      if (age < ADULT_AGE && policy === DirectMessagePolicy.EVERYONE) {
        throw badInput('Accounts under 18 can allow messages only from people they follow', 'directMessagePolicy');
      }
      patch.directMessagePolicy = policy;
    }
    if (input.hideOffensiveRequests != null) patch.hideOffensiveRequests = input.hideOffensiveRequests;
    if (input.readReceipts != null) patch.readReceipts = input.readReceipts;
    if (Object.keys(patch).length) await this.users.update({ id: viewerId }, patch);
    return Object.assign(user, patch);
  }

  async setRole(username: string, role: Role): Promise<User> {
    const user = await this.byUsername(username);
    if (!user) throw notFound(`No user ${username}`);
    await this.users.update({ id: user.id }, { role });
    return { ...user, role };
  }

  async setVerified(userId: string, verified: boolean): Promise<User> {
    const user = await this.requireById(userId);
    await this.users.update({ id: user.id }, { verified });
    return { ...user, verified };
  }

  async requireModerator(viewerId: string): Promise<User> {
    const user = await this.requireById(viewerId);
    if (user.role !== Role.MODERATOR) throw new AppError('FORBIDDEN', 'Moderators only');
    return user;
  }
}

/** signUp's and changePassword's rule. */
function checkPassword(password: string, field: string): void {
  if (password.length < 8 || password.length > 128) throw badInput('Password must be 8–128 characters', field);
}

export function normaliseUsername(raw: string): string {
  return raw.trim().toLowerCase();
}

function checkDisplayName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || [...name].length > 50 || hasControlCharacters(name)) {
    throw badInput('Display name must be 1–50 characters without control characters', 'displayName');
  }
  // Refused rather than stripped: the account sees its name exactly as it will be shown.
  if (hasBidiControls(name)) throw badInput('Display name must not contain bidirectional override or isolate characters', 'displayName');
  return name;
}

function checkAvatarUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput('Avatar must be an https URL', 'avatarUrl');
  }
  if (url.protocol !== 'https:' || raw.length > 2048) throw badInput('Avatar must be an https URL', 'avatarUrl');
  return url.toString();
}
