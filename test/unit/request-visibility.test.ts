import { StoredRequestStatus } from '../../src/modules/requests/message-request.entity';
import { canSeeRequest, isActionable, isAgedOutFor, isRestorable, type RequestParties } from '../../src/modules/requests/request-visibility';
import { NOW as now, REQUEST_VISIBILITY_CASES, request } from '../support/request-visibility-cases';

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

describe('what recently deleted lists and restore accepts', () => {
  it.each<[string, Partial<RequestParties>, string, boolean]>([
    ['deleted, pending, to its recipient', { deletedAt: now }, 'recipient', true],
    ['deleted, to its sender', { deletedAt: now }, 'sender', false],
    ['deleted, to anyone else', { deletedAt: now }, 'someone', false],
    ['not deleted', {}, 'recipient', false],
    ['deleted and aged out at this instant', { deletedAt: now, expiresAt: now }, 'recipient', false],
    ['deleted, stored EXPIRED', { deletedAt: now, status: StoredRequestStatus.EXPIRED }, 'recipient', false],
    ['deleted, then withdrawn', { deletedAt: now, status: StoredRequestStatus.WITHDRAWN }, 'recipient', false],
    ['deleted after accepting (the conversation hidden)', { deletedAt: now, status: StoredRequestStatus.ACCEPTED }, 'recipient', false],
  ])('%s → %s', (_name, over, viewer, restorable) => {
    expect(isRestorable(request(over), viewer, now)).toBe(restorable);
  });
});
