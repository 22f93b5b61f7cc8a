import { StoredRequestStatus } from '../../src/modules/requests/message-request.entity';
import type { RequestParties } from '../../src/modules/requests/request-visibility';

export const NOW = new Date('2026-11-25T12:00:00Z');
const LATER = new Date(NOW.getTime() + 1000);

export const request = (over: Partial<RequestParties> = {}): RequestParties => ({
  senderId: 'sender',
  recipientId: 'recipient',
  status: StoredRequestStatus.PENDING,
  deletedAt: null,
  expiresAt: LATER,
  ...over,
});

/**
 * Who sees a request, as one table: the pure rule (canSeeRequest, unit-tested) and its bulk
 * SQL form (RECIPIENT_SEES_SQL, which hides intros; tested against PostgreSQL) both answer it.
 */
export const VISIBILITY_CASES: Array<[string, Partial<RequestParties>, 'recipient' | 'sender' | 'someone', boolean]> = [
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
