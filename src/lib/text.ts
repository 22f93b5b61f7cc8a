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
