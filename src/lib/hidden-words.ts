import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';

/**
 * Hidden words (SPEC §8): whether a request's text holds one of the recipient's words or
 * phrases, or (when the recipient keeps the built-in option on) a common offensive term.
 * Pure; table-tested in test/unit/hidden-words.test.ts. Lives in lib/ because both the
 * users module (which stores the list, unique by its normalised form) and the requests
 * module (which matches at send time) need the same normalisation.
 */

/** Longest word or phrase a list may hold, in characters (code points) after trimming. */
export const MAX_PHRASE_LENGTH = 100;

// Scripts written without spaces between words: there each character is a token, so a
// phrase matches as a run of characters, the nearest thing to a whole word. Emoji are
// tokens of their own, so "🍆" can be listed and matches however it is surrounded.
const UNSPACED = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}`;
const TOKEN = new RegExp(String.raw`[${UNSPACED}]|\p{Extended_Pictographic}|(?:(?![${UNSPACED}])[\p{L}\p{N}])+`, 'gu');
// Combining marks (accents, emoji variation selectors) and invisible format characters
// (zero-width spaces and joiners, soft hyphens, bidi marks): dropped, so "CAFÉ" is "cafe"
// and "ca\u200Bfe" cannot slip past "cafe".
const IGNORED = /[\p{M}\p{Cf}]/gu;

/** Accents, width and case folded away; everything else (spaces, punctuation) kept. */
function fold(text: string): string {
  // Decompose before and after lowercasing: compatibility forms (𝐂, ℂ) only become
  // letters with a case once decomposed, and some lowercase forms (İ → i̇) gain a mark.
  return text
    .normalize('NFKD')
    .replace(IGNORED, '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(IGNORED, '')
    .replace(/ß/g, 'ss')
    .replace(/ς/g, 'σ');
}

/**
 * The words of `text`, folded and joined by single spaces: "  FREE   money!" → "free money".
 * Punctuation and runs of whitespace are word boundaries. Also the stored, unique form of
 * a list entry; '' when the text has no word at all.
 */
export function normaliseHiddenWord(text: string): string {
  return (fold(text).match(TOKEN) ?? []).join(' ');
}

// The package's English list with its recommended transformers (case, leetspeak,
// look-alike characters, repeated letters); its whitelist spares words such as
// "Scunthorpe". Built once: the patterns are compiled here.
const offensive = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });

/** Whether `text` contains a term of the built-in offensive-terms list. */
export function containsOffensiveTerm(text: string): boolean {
  // Folded first so accents and zero-width characters do not hide a term; spacing and
  // punctuation stay, as the list's word-boundary patterns need them.
  return offensive.hasMatch(fold(text));
}

/**
 * Whether a request with `text` goes to hidden requests because of the recipient's hidden
 * words: one of `phrases` occurs in it as whole words (in any case, with or without
 * accents, with any spacing or punctuation between the words), or `builtIn` is on and the
 * text contains an offensive term.
 */
export function matchesHiddenWords(text: string, phrases: readonly string[], builtIn: boolean): boolean {
  if (phrases.length > 0) {
    // Padded with spaces so that only whole words match: " cafe " is not in " cafeteria ".
    const words = ` ${normaliseHiddenWord(text)} `;
    for (const phrase of phrases) {
      const wanted = normaliseHiddenWord(phrase);
      if (wanted !== '' && words.includes(` ${wanted} `)) return true;
    }
  }
  return builtIn && containsOffensiveTerm(text);
}
