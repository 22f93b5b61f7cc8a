/**
 * Message text rules shared by requests and messages: trimmed length within bounds, no
 * NUL or control characters except newline. Emoji and bidi marks are kept as sent.
 */
// C0 controls except \n, DEL and C1 controls. Tab and \r are refused too: clients send \n.
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;

export type TextProblem = 'EMPTY' | 'TOO_LONG' | 'CONTROL_CHARACTER';

export function checkMessageText(text: string, maxLength: number): TextProblem | null {
  if (CONTROL.test(text)) return 'CONTROL_CHARACTER';
  const trimmed = text.trim();
  if (trimmed.length === 0) return 'EMPTY';
  // Count code points, not UTF-16 units, so an emoji is one character.
  if ([...trimmed].length > maxLength) return 'TOO_LONG';
  return null;
}

export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}

// Bidi embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069) reorder the
// text after them: in a display name they make "Support Team" out of other letters, or
// flip what a viewer reads next to it. Right-to-left scripts need none of them; the
// marks U+200E, U+200F and U+061C, which cannot reorder, stay allowed.
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;

export function hasBidiControls(text: string): boolean {
  return BIDI_CONTROL.test(text);
}
