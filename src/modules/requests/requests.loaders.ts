import DataLoader from 'dataloader';
import type { Eligibility } from './eligibility';
import type { MessageRequest } from './message-request.entity';
import type { UsersService } from '../users/users.service';
import type { RequestsService } from './requests.service';
import type { RequestSendService } from './request-send.service';

/**
 * Per-request loaders; `eligibility` is the viewer's standing to message each loaded
 * account (a signed-out viewer, or one whose account is gone, has none).
 */
export function createRequestLoaders(requests: RequestsService, send: RequestSendService, users: UsersService, viewerId: string | null, opts: { cache: boolean }) {
  return {
    requestById: new DataLoader<string, MessageRequest | null>(async (ids) => {
      const rows = await requests.byIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
    eligibility: new DataLoader<string, { result: Eligibility; openConversationId: string | null }>(async (ids) => {
      const viewer = viewerId ? await users.byId(viewerId) : null;
      return send.eligibilityFor(viewer, ids);
    }, opts),
  };
}
