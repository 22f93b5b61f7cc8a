import { StoredRequestStatus } from '../../src/modules/requests/message-request.entity';
import type { RequestParties } from '../../src/modules/requests/request-visibility';

/** The instant the cases are judged at; a case's request expires a second later unless it says otherwise. */
export const NOW = new Date('2026-11-25T12:00:00Z');

/**
 * Who sees a request, one table for canSeeRequest (test/unit/request-visibility.test.ts) and
 * canSeeRequestSql (test/e2e/visibility-sql.test.ts): [name, the request's difference from a
 * pending one from 'sender' to 'recipient', viewer, visible].
 */
export const REQUEST_VISIBILITY_CASES: Array<[string, Partial<RequestParties>, 'sender' | 'recipient' | 'someone', boolean]> = [
  ['pending, to its recipient', {}, 'recipient', true],
  ['pending, to its sender', {}, 'sender', true],
  ['pending, to anyone else', {}, 'someone', false],
  ['accepted, to its recipient', { status: StoredRequestStatus.ACCEPTED }, 'recipient', true],
  ['accepted but deleted (taken along by a direct send), to its recipient', { status: StoredRequestStatus.ACCEPTED, deletedAt: NOW }, 'recipient', false],
  ['deleted by its recipient, to the recipient', { deletedAt: NOW }, 'recipient', false],
  ['deleted by its recipient, to its sender (who cannot tell)', { deletedAt: NOW }, 'sender', true],
  ['withdrawn, to its recipient', { status: StoredRequestStatus.WITHDRAWN }, 'recipient', false],
  ['aged out at this instant, to its recipient', { expiresAt: NOW }, 'recipient', false],
  ['aged out, to its sender', { expiresAt: NOW }, 'sender', true],
  ['stored EXPIRED, to its recipient', { status: StoredRequestStatus.EXPIRED }, 'recipient', false],
];

/** A pending request from 'sender' to 'recipient' expiring a second after NOW, with `over` applied. */
export const request = (over: Partial<RequestParties> = {}): RequestParties => ({
  senderId: 'sender',
  recipientId: 'recipient',
  status: StoredRequestStatus.PENDING,
  deletedAt: null,
  expiresAt: new Date(NOW.getTime() + 1000),
  ...over,
});
