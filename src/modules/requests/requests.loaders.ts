import DataLoader from 'dataloader';
import type { MessageRequest } from './message-request.entity';
import type { RequestsService } from './requests.service';

export function createRequestLoaders(requests: RequestsService, opts: { cache: boolean }) {
  return {
    requestById: new DataLoader<string, MessageRequest | null>(async (ids) => {
      const rows = await requests.byIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }, opts),
  };
}
