import { hasControlCharacters } from './text';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A malformed id is treated exactly like an unknown one: NOT_FOUND, never a SQL error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Key of an unordered pair: both directions of a relationship are one lookup. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a},${b}` : `${b},${a}`;
}

export const MAX_CLIENT_MESSAGE_ID = 64;

/** A client's idempotency key (sendMessage, sendMessageRequest): 1–64 characters, no control characters. */
export function isValidClientMessageId(key: string): boolean {
  return key.length >= 1 && key.length <= MAX_CLIENT_MESSAGE_ID && !hasControlCharacters(key);
}

export const INVALID_CLIENT_MESSAGE_ID = `clientMessageId must be 1–${MAX_CLIENT_MESSAGE_ID} characters without control characters`;
