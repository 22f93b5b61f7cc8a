import type { DataSource } from 'typeorm';
import { preparedRow } from '../../db/prepared';
import { runInTransaction, type Tx } from '../../db/transaction';
import { AppError, notFound } from '../../graphql/errors';
import type { UserEvent } from '../../graphql/pubsub';
import { SKIP } from '../../lib/async-iterable';
import { HOUR_MS, type Clock } from '../../lib/clock';
import { isUuid } from '../../lib/ids';
import { ConversationsService } from '../conversations/conversations.service';
import { ConversationStatus } from '../conversations/conversation.entity';
import { activeBanJoinSql } from '../moderation/bans.service';
import { EventType, inConversation, type EventsService } from '../notifications/events.service';
import type { EventVisibility } from '../notifications/event-visibility';
import { Message } from './message.entity';
import { evaluateMessageAction, type MessageAction, type MessageActionLimits } from './message-action-rules';
import type { SendMessageFacts } from './message-rules';
import type { MessagesService } from './messages.service';

export interface MessageActionSettings {
  unsendWindowHours: number;
  editWindowMinutes: number;
  maxEdits: number;
}

/** Payload of MESSAGE_UNSENT, MESSAGE_EDITED and MESSAGE_REACTION: ids only, never text. */
export interface MessageActionPayload {
  conversationId: string;
  messageId: string;
  actorId: string;
  /** MESSAGE_REACTION: the emoji set, null when the reaction was removed. */
  emoji?: string | null;
}

/** A request intro's text changed (edited, or '' when unsent): the requests module keeps its copy in step. */
export interface IntroChange {
  messageId: string;
  actorId: string;
  text: string;
  unsent: boolean;
  now: Date;
}
export type IntroChangeHandler = (tx: Tx, change: IntroChange) => Promise<void>;

export type MessageActionEvent = EventType.MESSAGE_UNSENT | EventType.MESSAGE_EDITED | EventType.MESSAGE_REACTION;

export interface ReactionSummary {
  emoji: string;
  count: number;
  reactedByViewer: boolean;
}

interface ActionRow {
  id: string;
  conversation_id: string;
  sender_id: string;
  created_at: Date;
  edit_count: number;
  unsent_at: Date | null;
  hidden_for: string | null;
  seen_at: Date | null;
  recipient_policy: SendMessageFacts['recipientPolicy'];
  sender_policy: SendMessageFacts['senderPolicy'];
  ban_until: Date | null;
  banned: boolean;
  a_blocks_b: boolean;
  b_blocks_a: boolean;
  pending_intro: boolean;
}

export interface MessageActionsDeps {
  clock: Clock;
  events: EventsService;
  conversations: ConversationsService;
  messages: MessagesService;
  /** The one rule of what reaches a subscriber (live and catch-up alike). */
  visibility: EventVisibility;
  settings: MessageActionSettings;
}

/**
 * Unsend for everyone, edit, reactions (issue 17). Each action runs in one transaction
 * under the pair's lock (the one blockUser and sendMessage take, so a block or ban that
 * commits first is always seen) with the message row locked: edit counts and windows are
 * exact however many requests race. The rules are message-action-rules.ts. None of these
 * moves a conversation's activity or anyone's unread count up; an unsend can lower the
 * other participant's (unsent messages are not unread), so it tells their badge.
 */
export class MessageActionsService {
  private readonly introHandlers: IntroChangeHandler[] = [];
  private readonly limits: MessageActionLimits;

  constructor(
    private readonly dataSource: DataSource,
    private readonly deps: MessageActionsDeps,
  ) {
    this.limits = {
      unsendWindowMs: deps.settings.unsendWindowHours * HOUR_MS,
      editWindowMs: deps.settings.editWindowMinutes * 60_000,
      maxEdits: deps.settings.maxEdits,
    };
  }

  /** The requests module keeps its copy of an intro's text (and a pending intro's request) in step. */
  onIntroChanged(handler: IntroChangeHandler): void {
    this.introHandlers.push(handler);
  }

  /**
   * unsendMessage: the text leaves both participants' sight at once (a tombstone: empty
   * text, unsentAt) and is sealed for moderators; the message's reactions go with it.
   * Unsending again answers the tombstone. Unsending the intro of one's pending request
   * withdraws the request: only the sender's devices hear MESSAGE_UNSENT, the recipient
   * only its badge (as withdrawMessageRequest).
   */
  async unsend(viewerId: string, messageId: string): Promise<Message> {
    return this.act(viewerId, messageId, 'UNSEND', {}, async (tx, row, otherId, now) => {
      await tx.manager.query(
        `WITH sealed AS (
           INSERT INTO message_sealed_texts (message_id, kind, text, created_at) SELECT id, 'UNSENT', text, $2 FROM messages WHERE id = $1
         ), reactions AS (
           DELETE FROM message_reactions WHERE message_id = $1
         )
         UPDATE messages SET text = '', unsent_at = $2 WHERE id = $1`,
        [row.id, now],
      );
      await this.introChanged(tx, { messageId: row.id, actorId: viewerId, text: '', unsent: true, now });
      const payload: MessageActionPayload = { conversationId: row.conversation_id, messageId: row.id, actorId: viewerId };
      this.deps.events.emit(tx, viewerId, EventType.MESSAGE_UNSENT, { ...payload });
      if (!row.pending_intro) {
        this.deps.events.emit(tx, otherId, EventType.MESSAGE_UNSENT, { ...payload });
        // An unread message no longer counts once unsent.
        if (row.seen_at === null) this.deps.events.emit(tx, otherId, EventType.INBOX_BADGE_CHANGED, { conversationId: row.conversation_id });
      }
    });
  }

  /** editMessage: the new text replaces the old for both; the old one is sealed for moderators. */
  async edit(viewerId: string, messageId: string, text: string): Promise<Message> {
    return this.act(viewerId, messageId, 'EDIT', { text }, async (tx, row, otherId, now) => {
      await tx.manager.query(
        `WITH sealed AS (
           INSERT INTO message_sealed_texts (message_id, kind, text, created_at) SELECT id, 'EDITED', text, $3 FROM messages WHERE id = $1
         )
         UPDATE messages SET text = $2, edited_at = $3, edit_count = edit_count + 1 WHERE id = $1`,
        [row.id, text, now],
      );
      await this.introChanged(tx, { messageId: row.id, actorId: viewerId, text, unsent: false, now });
      this.emitBoth(tx, EventType.MESSAGE_EDITED, { conversationId: row.conversation_id, messageId: row.id, actorId: viewerId }, otherId);
    });
  }

  /** reactToMessage: sets (or replaces) the viewer's one reaction. Setting the same emoji again changes nothing. */
  async react(viewerId: string, messageId: string, emoji: string): Promise<Message> {
    return this.act(viewerId, messageId, 'REACT', { emoji }, async (tx, row, otherId, now) => {
      // TypeORM answers an INSERT's RETURNING rows as they are (UPDATE and DELETE: [rows, count]).
      const changed: unknown[] = await tx.manager.query(
        `INSERT INTO message_reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id, user_id) DO UPDATE SET emoji = EXCLUDED.emoji, created_at = EXCLUDED.created_at
          WHERE message_reactions.emoji <> EXCLUDED.emoji
         RETURNING 1`,
        [row.id, viewerId, emoji, now],
      );
      if (changed.length) this.emitBoth(tx, EventType.MESSAGE_REACTION, { conversationId: row.conversation_id, messageId: row.id, actorId: viewerId, emoji }, otherId);
    });
  }

  /** removeReaction: idempotent. */
  async unreact(viewerId: string, messageId: string): Promise<Message> {
    return this.act(viewerId, messageId, 'UNREACT', {}, async (tx, row, otherId) => {
      const [, removed]: [unknown[], number] = await tx.manager.query(`DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2`, [row.id, viewerId]);
      if (removed) this.emitBoth(tx, EventType.MESSAGE_REACTION, { conversationId: row.conversation_id, messageId: row.id, actorId: viewerId, emoji: null }, otherId);
    });
  }

  /** Message.reactions of many messages as `viewerId` sees them, in one grouped statement. */
  async reactionSummaries(viewerId: string | null, messageIds: readonly string[]): Promise<Map<string, ReactionSummary[]>> {
    const result = new Map<string, ReactionSummary[]>();
    const ids = [...new Set(messageIds.filter(isUuid))];
    if (!ids.length) return result;
    const rows: Array<{ message_id: string; emoji: string; n: number; mine: boolean }> = await this.dataSource.query(
      `SELECT message_id, emoji, count(*)::int AS n, bool_or(user_id = $2::uuid) AS mine
         FROM message_reactions WHERE message_id = ANY($1::uuid[])
        GROUP BY message_id, emoji ORDER BY message_id, n DESC, min(created_at)`,
      [ids, viewerId],
    );
    for (const r of rows) {
      const list = result.get(r.message_id) ?? [];
      list.push({ emoji: r.emoji, count: r.n, reactedByViewer: r.mine === true });
      result.set(r.message_id, list);
    }
    return result;
  }

  /**
   * The live stream of one of these events for the viewer, optionally for one
   * conversation, each re-checked just before it is sent by the rule events(after:) also
   * applies (EventVisibility): not across a block either way, as messageReceived.
   */
  live(viewerId: string, type: MessageActionEvent, conversationId?: string | null): AsyncIterable<UserEvent> {
    return this.deps.events.subscribe(viewerId, [type], async (event: UserEvent) => ((await this.deps.visibility.allows(viewerId, event)) ? event : SKIP), {
      where: inConversation(conversationId),
    });
  }

  private emitBoth(tx: Tx, type: MessageActionEvent, payload: MessageActionPayload, otherId: string): void {
    // The actor's own devices too, as messageReceived does.
    this.deps.events.emit(tx, payload.actorId, type, { ...payload });
    this.deps.events.emit(tx, otherId, type, { ...payload });
  }

  private async introChanged(tx: Tx, change: IntroChange): Promise<void> {
    for (const handler of this.introHandlers) await handler(tx, change);
  }

  /**
   * The frame of every action: the message's conversation must be readable by the viewer
   * (NOT_FOUND otherwise, as if it did not exist), the pair locked, then the message row
   * locked with every fact the rules need in one statement; a refusal writes nothing.
   * Answers the message as it is after `write`.
   */
  private async act(
    viewerId: string,
    messageId: string,
    action: MessageAction,
    input: { text?: string; emoji?: string },
    write: (tx: Tx, row: ActionRow, otherId: string, now: Date) => Promise<void>,
  ): Promise<Message> {
    if (!isUuid(messageId)) throw notFound('Message not found');
    const { messages, conversations, clock } = this.deps;
    const result = await runInTransaction(this.dataSource, async (tx) => {
      const [peek]: Array<{ conversation_id: string }> = await tx.manager.query('SELECT conversation_id FROM messages WHERE id = $1', [messageId]);
      if (!peek) throw notFound('Message not found');
      const conversation = await conversations.requireReadableLockingPair(tx, viewerId, peek.conversation_id).catch((err: unknown) => {
        throw err instanceof AppError && err.code === 'NOT_FOUND' ? notFound('Message not found') : err;
      });
      const otherId = ConversationsService.otherParticipant(conversation, viewerId);
      const now = clock.now();
      const row = await preparedRow<ActionRow>(
        tx.manager,
        'message-actions.facts',
        `SELECT m.id, m.conversation_id, m.sender_id, m.created_at, m.edit_count, m.unsent_at, m.hidden_for, m.seen_at,
                (SELECT dm_policy FROM users WHERE id = $3) AS recipient_policy,
                (SELECT dm_policy FROM users WHERE id = $2) AS sender_policy,
                ban.until AS ban_until, ban.banned IS NOT NULL AS banned,
                EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $2 AND blocked_id = $3) AS a_blocks_b,
                EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $3 AND blocked_id = $2) AS b_blocks_a,
                EXISTS (SELECT 1 FROM message_requests r
                         WHERE r.message_id = m.id AND r.sender_id = $2 AND r.status = 'PENDING' AND r.expires_at > $4) AS pending_intro
           FROM messages m
           ${activeBanJoinSql('$2', '$4')}
          WHERE m.id = $1
            FOR UPDATE OF m`,
        [messageId, viewerId, otherId, now],
      );
      // An intro hidden from the viewer (requests/intro-visibility.ts) does not exist for them.
      if (!row || row.hidden_for === viewerId) throw notFound('Message not found');
      const verdict = evaluateMessageAction({
        action,
        senderBan: row.banned ? { until: row.ban_until ?? null } : null,
        senderPolicy: row.sender_policy ?? null,
        recipientPolicy: row.recipient_policy ?? null,
        relationship: { aBlocksB: row.a_blocks_b, bBlocksA: row.b_blocks_a },
        conversationOpen: conversation.status === ConversationStatus.OPEN,
        viewerIsSender: row.sender_id === viewerId,
        pendingIntroOfViewer: row.pending_intro,
        unsent: row.unsent_at !== null,
        createdAt: row.created_at,
        editCount: row.edit_count,
        now,
        text: input.text,
        emoji: input.emoji,
        limits: this.limits,
      });
      if (!verdict.allowed) throw new AppError(verdict.code, verdict.message, verdict.extensions);
      if (!verdict.alreadyDone) await write(tx, row, otherId, now);
      const [updated] = await messages.byIds([row.id], tx.manager);
      return updated;
    });
    // This instance's delivery copy of a just-posted message must not serve the old text.
    messages.forget(result.id);
    return result;
  }
}
