import DataLoader from 'dataloader';
import type { MessageActionsService, ReactionSummary } from './message-actions.service';
import type { SealedText, SealedTextsService } from './sealed-texts.service';

/**
 * Per-request loaders: Message.reactions for a whole history page in one grouped
 * statement (the page's statement count stays flat in its size), and the sealed texts a
 * moderator's report page shows, in one statement for all its reports.
 */
export function createMessageActionLoaders(actions: MessageActionsService, sealed: SealedTextsService, viewerId: string | null, opts: { cache: boolean }) {
  return {
    reactionsByMessageId: new DataLoader<string, ReactionSummary[]>(async (ids) => {
      const byId = await actions.reactionSummaries(viewerId, ids);
      return ids.map((id) => byId.get(id) ?? []);
    }, opts),
    sealedTextsByMessageId: new DataLoader<string, SealedText[]>(async (ids) => {
      const rows = await sealed.byMessageIds(ids);
      return ids.map((id) => rows.filter((r) => r.messageId === id));
    }, opts),
  };
}
