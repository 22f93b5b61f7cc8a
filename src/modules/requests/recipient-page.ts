import type { SelectQueryBuilder } from 'typeorm';
import type { MessageRequest } from './message-request.entity';

/**
 * A page of the recipient's requests (the folders, recently deleted) read with the
 * recipient's mute of each one's conversation, so `MessageRequest.muted` costs no
 * statement of its own: a folder page stays within its statement budget (≤ 4) whatever
 * fields a client selects. `r` is the request alias; each request has one member row for
 * its recipient.
 */
export async function recipientPage(qb: SelectQueryBuilder<MessageRequest>): Promise<MessageRequest[]> {
  const { entities, raw } = await qb
    .leftJoin('conversation_members', 'cm', 'cm.conversation_id = r.conversation_id AND cm.user_id = r.recipient_id')
    .addSelect('COALESCE(cm.muted, false)', 'viewer_muted')
    .getRawAndEntities<{ r_id: string; viewer_muted: boolean }>();
  const muted = new Map(raw.map((row) => [row.r_id, row.viewer_muted === true]));
  return entities.map((e) => Object.assign(e, { recipientMuted: muted.get(e.id) ?? false }));
}
