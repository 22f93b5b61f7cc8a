import type { DataSource } from 'typeorm';
import type { Tx } from '../../db/transaction';
import { Message } from './message.entity';

export interface AppendMessage {
  conversationId: string;
  senderId: string;
  text: string;
  clientMessageId: string | null;
  now: Date;
}

/** Messages: appending in the conversation's total order, reading history, receipts. */
export class MessagesService {
  constructor(protected readonly dataSource: DataSource) {}

  /**
   * Appends a message inside the caller's transaction. Taking the next sequence number
   * updates (and so locks) the conversation row until commit: concurrent senders queue
   * there, and every reader sees one order. An open conversation comes back into both
   * members' inboxes (a deleted conversation returns with its history).
   */
  async appendInTx(tx: Tx, input: AppendMessage): Promise<Message> {
    const [{ last_seq, status }] = await tx.manager.query(
      `UPDATE conversations SET last_seq = last_seq + 1, last_message_at = $2 WHERE id = $1 RETURNING last_seq, status`,
      [input.conversationId, input.now],
    );
    const message = tx.manager.create(Message, {
      conversationId: input.conversationId,
      seq: String(last_seq),
      senderId: input.senderId,
      text: input.text,
      clientMessageId: input.clientMessageId,
      createdAt: input.now,
      seenAt: null,
    });
    await tx.manager.insert(Message, message);
    await tx.manager.query(`UPDATE conversations SET last_message_id = $2 WHERE id = $1`, [input.conversationId, message.id]);
    await tx.manager.query(
      `UPDATE conversation_members SET activity_at = $2, in_inbox = ($3 = 'OPEN') OR in_inbox WHERE conversation_id = $1`,
      [input.conversationId, input.now, status],
    );
    return message;
  }
}
