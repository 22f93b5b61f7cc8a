import { find } from 'linkifyjs';

/**
 * Links in message text, found by linkifyjs (its TLD list is maintained upstream, so
 * `spam.de/win` and `goo.gl/abc` count while `e.g.`, `3.14` and `a.b` do not) plus bare
 * IPv4 addresses, which linkifyjs only knows behind a scheme. Used to send requests with a
 * link to hidden requests and to tell clients which spans of a preview are links, so they
 * show them inert.
 */

/** A link's place in the original text: UTF-16 code units, `end` exclusive (JS `slice`). */
export interface TextSpan {
  start: number;
  end: number;
}

// Invisible characters a spammer slips into a domain to break matching ("spam\u200B.com").
const INVISIBLE = new Set([0x00ad, 0x034f, 0x061c, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff]);
// Dots NFKC leaves alone (or turns into another of these): ideographic full stop and kin.
const DOTS = new Set([0x3002, 0xff61, 0xfe12, 0x2e3c]);

// A dotted quad, optional port and path, not inside a longer run of digits and dots
// ("1.2.3.4.5" is a version, not an address).
const IPV4 = /(?<![\d.]|\d\.)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)(?::\d{1,5})?(?:\/\S*)?/g;

interface Normalised {
  text: string;
  /** For each UTF-16 unit of `text`, where its character starts and ends in the original. */
  from: number[];
  to: number[];
}

/**
 * What a reader sees, as ASCII where the lookalike has an ASCII meaning: NFKC per character
 * (fullwidth letters, dots and slashes, `．`), the ideographic dots, invisible characters
 * dropped. Per character so every unit maps back to its place in the original text.
 */
function normalise(original: string): Normalised {
  let text = '';
  const from: number[] = [];
  const to: number[] = [];
  let at = 0;
  for (const ch of original) {
    const cp = ch.codePointAt(0)!;
    const end = at + ch.length;
    if (!INVISIBLE.has(cp)) {
      let out = ch.normalize('NFKC');
      out = [...out].map((c) => (DOTS.has(c.codePointAt(0)!) ? '.' : c)).join('');
      for (let i = 0; i < out.length; i++) {
        from.push(at);
        to.push(end);
      }
      text += out;
    }
    at = end;
  }
  return { text, from, to };
}

/** The spans of `text` that are links (URLs, bare domains, e-mail addresses, IPv4), in order. */
export function linkSpans(text: string): TextSpan[] {
  const n = normalise(text);
  if (n.text.length === 0) return [];
  const found: TextSpan[] = find(n.text).filter((l) => l.isLink).map((l) => ({ start: l.start, end: l.end }));
  for (const m of n.text.matchAll(IPV4)) found.push({ start: m.index, end: m.index + m[0].length });
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: TextSpan[] = [];
  for (const s of found) {
    const last = merged[merged.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged.map((s) => ({ start: n.from[s.start], end: n.to[s.end - 1] }));
}

/** Whether text carries a link; such requests go to hidden requests (anti-spam). */
export function containsLink(text: string): boolean {
  return linkSpans(text).length > 0;
}
