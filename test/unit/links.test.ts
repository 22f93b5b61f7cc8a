import { containsLink, linkSpans } from '../../src/lib/links';

/** The link matcher (issue 14.7e): what sends a request to hidden requests, and what a preview marks inert. */
describe('containsLink', () => {
  it.each<[string, boolean]>([
    ['hello there', false],
    ['plain words, nothing else', false],
    ['e.g. this one', false],
    ['i.e. that', false],
    ['pi is 3.14', false],
    ['a.b', false],
    ['node.js and file.txt', false],
    ['version 1.2.3.4.5', false],
    ['see you at 10.30', false],
    ['hi...there', false],
    ['', false],
    ['example.com', true],
    ['go to EXAMPLE.COM now', true],
    ['spam.de/win', true],
    ['goo.gl/abc', true],
    ['bit.ly/x and t.co/abc', true],
    ['https://example.com/path?q=1', true],
    ['http://10.0.0.1:8080/a', true],
    ['www.example.org', true],
    ['bare ip 192.168.0.1 here', true],
    ['ip with path 8.8.8.8/free', true],
    ['ip with port 1.2.3.4:8080', true],
    ['fullwidth dot spam．com', true],
    ['ideographic dot spam。com', true],
    ['halfwidth ideographic dot spam｡com', true],
    ['fullwidth letters ｅｘａｍｐｌｅ．ｃｏｍ', true],
    ['zero-width space spam\u200B.com', true],
    ['mail me@example.com', true],
    ['пример.рф', true],
  ])('%j → %s', (text, expected) => {
    expect(containsLink(text)).toBe(expected);
  });
});

describe('linkSpans', () => {
  const spans = (text: string) => linkSpans(text).map((s) => text.slice(s.start, s.end));

  it.each<[string, string[]]>([
    ['win big at spam.de/win today', ['spam.de/win']],
    ['two: goo.gl/abc and 1.2.3.4', ['goo.gl/abc', '1.2.3.4']],
    ['no links here', []],
    // Offsets are in the original text: the lookalike dot is part of the span.
    ['😀 spam．com 😀', ['spam．com']],
    ['x ｅｘａｍｐｌｅ．ｃｏｍ y', ['ｅｘａｍｐｌｅ．ｃｏｍ']],
    ['spam\u200B.com!', ['spam\u200B.com']],
    ['http://10.0.0.1:8080/a', ['http://10.0.0.1:8080/a']],
  ])('%j → %j', (text, expected) => {
    expect(spans(text)).toEqual(expected);
  });

  it('counts UTF-16 code units (an emoji before a link is two)', () => {
    expect(linkSpans('😀 a.io')).toEqual([{ start: 3, end: 7 }]);
  });
});
