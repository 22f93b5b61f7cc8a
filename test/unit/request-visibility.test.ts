import { StoredRequestStatus } from '../../src/modules/requests/message-request.entity';
import { canSeeRequest, isActionable, isAgedOutFor, isRestorable, type RequestParties } from '../../src/modules/requests/request-visibility';

const now = new Date('2026-11-25T12:00:00Z');
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
  it.each<[string, Partial<RequestParties>, string, boolean]>([
    ['pending, to its recipient', {}, 'recipient', true],
    ['pending, to its sender', {}, 'sender', true],
    ['pending, to anyone else', {}, 'someone', false],
    ['accepted, to its recipient', { status: StoredRequestStatus.ACCEPTED }, 'recipient', true],
    ['deleted by its recipient, to the recipient', { deletedAt: now }, 'recipient', false],
    ['deleted by its recipient, to its sender (who cannot tell)', { deletedAt: now }, 'sender', true],
    ['withdrawn, to its recipient', { status: StoredRequestStatus.WITHDRAWN }, 'recipient', false],
    ['aged out at this instant, to its recipient', { expiresAt: now }, 'recipient', false],
    ['aged out, to its sender', { expiresAt: now }, 'sender', true],
    ['stored EXPIRED, to its recipient', { status: StoredRequestStatus.EXPIRED }, 'recipient', false],
  ])('%s → %s', (_name, over, viewer, visible) => {
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
