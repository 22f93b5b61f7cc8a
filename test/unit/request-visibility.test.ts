import { StoredRequestStatus } from '../../src/modules/requests/message-request.entity';
import { canSeeRequest, isActionable, isAgedOutFor, type RequestParties } from '../../src/modules/requests/request-visibility';
import { NOW, REQUEST_VISIBILITY_CASES } from '../support/request-visibility-cases';

const now = NOW;
const later = new Date(now.getTime() + 1000);
const request = (over: Partial<RequestParties> = {}): RequestParties => ({
  senderId: 'sender',
  recipientId: 'recipient',
  status: StoredRequestStatus.PENDING,
  deletedAt: null,
  expiresAt: later,
  ...over,
});

describe('who sees a request', () => {
  it.each(REQUEST_VISIBILITY_CASES)('%s → %s', (_name, over, viewer, visible) => {
    expect(canSeeRequest(request(over), viewer, now)).toBe(visible);
  });
});

describe('what the recipient may still do', () => {
  it.each<[string, Partial<RequestParties>, boolean, boolean]>([
    // [name, request, actionable (accept, delete), aged out for the recipient (delete only)]
    ['pending', {}, true, false],
    ['aged out at this instant', { expiresAt: now }, false, true],
    ['stored EXPIRED', { status: StoredRequestStatus.EXPIRED }, false, true],
    ['aged out and already deleted', { expiresAt: now, deletedAt: now }, false, false],
    ['deleted', { deletedAt: now }, false, false],
    ['accepted', { status: StoredRequestStatus.ACCEPTED }, false, false],
    ['withdrawn', { status: StoredRequestStatus.WITHDRAWN }, false, false],
  ])('%s', (_name, over, actionable, agedOut) => {
    expect(isActionable(request(over), now)).toBe(actionable);
    expect(isAgedOutFor(request(over), 'recipient', now)).toBe(agedOut);
    expect(isAgedOutFor(request(over), 'sender', now)).toBe(false);
  });
});
