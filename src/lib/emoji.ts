/**
 * A reaction is one emoji: exactly one grapheme cluster (Intl.Segmenter, so skin tones,
 * ZWJ families and flags count as one) that is pictographic, a flag (two regional
 * indicators) or a keycap. Any emoji a keyboard offers passes without a list to keep up
 * to date; letters, digits, text and several emoji do not. Bounded first, so a long
 * string is refused before it is segmented.
 */
export const MAX_EMOJI_CODE_POINTS = 32;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
const FLAG = /^\p{Regional_Indicator}{2}$/u;
const KEYCAP = /^[0-9#*]\uFE0F?\u20E3$/u;
// Controls, and the invisible formatting characters that could disguise text as an emoji
// (ZWJ U+200D and the variation selectors are part of real emoji and allowed).
const FORBIDDEN = /[\u0000-\u001F\u007F-\u009F\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/u;

export function isSingleEmoji(value: string): boolean {
  if (value.length === 0 || [...value].length > MAX_EMOJI_CODE_POINTS || FORBIDDEN.test(value)) return false;
  const graphemes = [...segmenter.segment(value)];
  if (graphemes.length !== 1) return false;
  return PICTOGRAPHIC.test(value) || FLAG.test(value) || KEYCAP.test(value);
}
