import { Message } from './message.entity';

/** A messages row as node-postgres answers it (or as json_build_object / to_jsonb does: dates as text, seq as a number). */
export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: string;
  sender_id: string;
  text: string;
  client_message_id: string | null;
  created_at: Date | string;
  seen_at: Date | string | null;
  reply_to_id: string | null;
  edited_at: Date | string | null;
  edit_count: number;
  unsent_at: Date | string | null;
}

const asDate = (v: Date | string | null): Date | null => (v === null ? null : v instanceof Date ? v : new Date(v));

export function messageFromRow(row: MessageRow): Message {
  return Object.assign(new Message(), {
    id: row.id,
    conversationId: row.conversation_id,
    seq: String(row.seq),
    senderId: row.sender_id,
    text: row.text,
    clientMessageId: row.client_message_id,
    createdAt: asDate(row.created_at)!,
    seenAt: asDate(row.seen_at),
    replyToId: row.reply_to_id,
    editedAt: asDate(row.edited_at),
    editCount: row.edit_count,
    unsentAt: asDate(row.unsent_at),
  });
}

/**
 * The message as its send posted it, carried by its MESSAGE_RECEIVED event (UserEvent.posted)
 * through Redis too: plain JSON, so dates travel as ISO text.
 */
export function toPosted(m: Message): Record<string, unknown> {
  return {
    id: m.id,
    conversation_id: m.conversationId,
    seq: m.seq,
    sender_id: m.senderId,
    text: m.text,
    client_message_id: m.clientMessageId,
    created_at: m.createdAt.toISOString(),
    seen_at: null,
    reply_to_id: m.replyToId,
    edited_at: null,
    edit_count: 0,
    unsent_at: null,
  };
}

/** The message an event's `posted` carries (toPosted), as history would read it then. */
export function fromPosted(p: Record<string, unknown>): Message {
  return messageFromRow(p as unknown as MessageRow);
}
