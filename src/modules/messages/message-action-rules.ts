import type { ErrorCode } from '../../graphql/errors';
import { isSingleEmoji } from '../../lib/emoji';
import { evaluateSendMessage, type SendMessageFacts } from './message-rules';

/**
 * The rules of unsendMessage, editMessage, reactToMessage and removeReaction (issue 17) as
 * one pure function over plain data, table-tested in test/unit/message-action-rules.test.ts.
 * Who stands how towards whom is decided by evaluateSendMessage itself, with the acting
 * participant as the sender: a ban, one's own messages off, a block either way or the
 * other party's messages off refuse these actions exactly as they refuse a send, and a
 * conversation still a request refuses them too (REQUEST_PENDING) — except unsending the
 * intro of one's own pending request, which withdraws it. Then, in order: the message is
 * gone (unsent) → NOT_FOUND, except that unsending again answers the tombstone; only its
 * sender may unsend or edit it (FORBIDDEN); the windows and the edit limit; the input.
 */
export type MessageAction = 'UNSEND' | 'EDIT' | 'REACT' | 'UNREACT';

export interface MessageActionLimits {
  unsendWindowMs: number;
  editWindowMs: number;
  maxEdits: number;
}

export interface MessageActionFacts extends Omit<SendMessageFacts, 'text'> {
  action: MessageAction;
  viewerIsSender: boolean;
  /** The message is the intro of the viewer's own request, still pending. */
  pendingIntroOfViewer: boolean;
  unsent: boolean;
  createdAt: Date;
  editCount: number;
  now: Date;
  /** EDIT: the new text. */
  text?: string;
  /** REACT: the emoji. */
  emoji?: string;
  limits: MessageActionLimits;
}

export type MessageActionVerdict =
  | { allowed: true; alreadyDone?: boolean }
  | { allowed: false; code: ErrorCode; message: string; extensions: Record<string, unknown> };

/** What evaluateSendMessage's text rule is given for an action that carries no text. */
const NO_TEXT = '·';

const deny = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): MessageActionVerdict => ({ allowed: false, code, message, extensions });

export function evaluateMessageAction(f: MessageActionFacts): MessageActionVerdict {
  const conversationOpen = f.conversationOpen || (f.action === 'UNSEND' && f.pendingIntroOfViewer && f.viewerIsSender);
  const send = evaluateSendMessage({ ...f, conversationOpen, text: f.action === 'EDIT' ? f.text ?? '' : NO_TEXT });
  // The text rule comes last in evaluateSendMessage; an edit's text is checked after the
  // limits below, as the last of its rules, so only the parties' refusals count here.
  if (!send.allowed && !(f.action === 'EDIT' && send.code === 'BAD_USER_INPUT')) return send;
  if (f.unsent) {
    if (f.action === 'UNSEND' && f.viewerIsSender) return { allowed: true, alreadyDone: true };
    return deny('NOT_FOUND', 'Message not found');
  }
  const age = f.now.getTime() - f.createdAt.getTime();
  if (f.action === 'UNSEND') {
    if (!f.viewerIsSender) return deny('FORBIDDEN', 'Only the sender can unsend a message');
    if (age > f.limits.unsendWindowMs) {
      return deny('UNSEND_WINDOW_CLOSED', 'This message is too old to unsend', { windowSeconds: Math.round(f.limits.unsendWindowMs / 1000) });
    }
    return { allowed: true };
  }
  if (f.action === 'EDIT') {
    if (!f.viewerIsSender) return deny('FORBIDDEN', 'Only the sender can edit a message');
    if (age > f.limits.editWindowMs) {
      return deny('EDIT_WINDOW_CLOSED', 'This message is too old to edit', { windowSeconds: Math.round(f.limits.editWindowMs / 1000) });
    }
    if (f.editCount >= f.limits.maxEdits) {
      return deny('EDIT_LIMIT_REACHED', `A message can be edited at most ${f.limits.maxEdits} times`, { maxEdits: f.limits.maxEdits });
    }
    return send.allowed ? { allowed: true } : send;
  }
  if (f.action === 'REACT' && !isSingleEmoji(f.emoji ?? '')) {
    return deny('BAD_USER_INPUT', 'A reaction is a single emoji', { field: 'emoji' });
  }
  return { allowed: true };
}
