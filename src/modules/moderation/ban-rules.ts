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
