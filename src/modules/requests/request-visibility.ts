import { StoredRequestStatus } from './message-request.entity';

/** What the visibility rules read of a request. */
export interface RequestParties {
  senderId: string;
  recipientId: string;
  status: StoredRequestStatus;
  deletedAt: Date | null;
  expiresAt: Date;
}

/**
 * Who sees a request, as pure functions of the row and one clock instant (callers read
 * the clock once, so a request's visibility and its status never disagree). Table-tested
 * in test/unit/request-visibility.test.ts.
 *
 * The sender always sees its own request. The recipient sees it while it is pending and
 * after accepting it; a deleted, withdrawn or expired request is gone for the recipient,
 * text and conversation with it, as if it had never arrived.
 */
export function canSeeRequest(request: RequestParties, viewerId: string, now: Date): boolean {
  if (request.senderId === viewerId) return true;
  if (request.recipientId !== viewerId || request.deletedAt) return false;
  if (request.status === StoredRequestStatus.ACCEPTED) return true;
  return request.status === StoredRequestStatus.PENDING && request.expiresAt > now;
}

/**
 * canSeeRequest in SQL, for statements that decide it in bulk: whether the message_requests
 * row `r` is visible to the account in parameter `viewer` at the instant in parameter `now`.
 * Kept to the same table of cases as canSeeRequest (test/support/request-visibility-cases.ts).
 */
export function canSeeRequestSql(r: string, viewer: string, now: string): string {
  return `(${r}.sender_id = ${viewer}::uuid
           OR (${r}.recipient_id = ${viewer}::uuid AND ${r}.deleted_at IS NULL
               AND (${r}.status = 'ACCEPTED' OR (${r}.status = 'PENDING' AND ${r}.expires_at > ${now}::timestamptz))))`;
}

/**
 * A request that aged out, undeleted, seen by its recipient: gone from every view, but
 * a client whose folder is stale may still delete it, and a block asked with the delete
 * must not be lost.
 */
export function isAgedOutFor(request: RequestParties, viewerId: string, now: Date): boolean {
  if (request.recipientId !== viewerId || request.deletedAt) return false;
  return request.status === StoredRequestStatus.EXPIRED || (request.status === StoredRequestStatus.PENDING && request.expiresAt <= now);
}

/** Still in the recipient's folder: accept and delete act on it. */
export function isActionable(request: RequestParties, now: Date): boolean {
  return request.status === StoredRequestStatus.PENDING && !request.deletedAt && request.expiresAt > now;
}

/**
 * In its recipient's recently deleted requests: deleted by the recipient and otherwise
 * still pending, until it would have expired. The sender never learned of the delete, so
 * putting it back changes nothing the sender can see.
 */
export function isRestorable(request: RequestParties, viewerId: string, now: Date): boolean {
  return request.recipientId === viewerId && request.deletedAt !== null && request.status === StoredRequestStatus.PENDING && request.expiresAt > now;
}
