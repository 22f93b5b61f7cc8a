import { isNewAccount } from '../users/account-age';

/**
 * What a banned sender is told, wherever a send is refused for a ban (SPEC §2 rule 3):
 * MESSAGING_BANNED with `extensions.until` — the ISO end of the ban, or null while it
 * lasts until a moderator lifts it. Pure, shared by the request and message rules.
 */
export function messagingBannedDenial(ban: { until: Date | null }): {
  code: 'MESSAGING_BANNED';
  message: string;
  extensions: { until: string | null };
} {
  const until = ban.until ? ban.until.toISOString() : null;
  return {
    code: 'MESSAGING_BANNED',
    message: until ? `You can't send messages until ${until}` : "You can't send messages until a moderator reviews your account",
    extensions: { until },
  };
}

/** What is known, when a report is filed, about its reporter and the reported account. */
export interface ReportFacts {
  reportedAt: Date;
  reporterCreatedAt: Date;
  /** The reported account has sent the reporter a message request or a message, ever. */
  contacted: boolean;
  newAccountHours: number;
}

/**
 * Whether a report counts toward the automatic messaging ban (SPEC §8: reports cannot be
 * weaponised). Only people the reported account reached out to can have a grievance with
 * it, so a reporter it never contacted does not count; nor does a reporter that was a new
 * account when it reported (a batch of fresh sign-ups is the cheap way to mass-report).
 * Decided once, when the report is filed, and stored on it: moderators still see every
 * report, with this verdict.
 */
export function countsTowardAutoBan(facts: ReportFacts): boolean {
  return facts.contacted && !isNewAccount(facts.reporterCreatedAt, facts.reportedAt, facts.newAccountHours);
}
