import { containsOffensiveTerm, matchesHiddenWords, normaliseHiddenWord } from '../../src/lib/hidden-words';

describe('normaliseHiddenWord: the stored, unique form of a list entry', () => {
  it.each<[string, string]>([
    ['cafe', 'cafe'],
    ['  Café ', 'cafe'],
    ['CAFÉ!', 'cafe'],
    ['FREE   money!', 'free money'],
    ['free\nmoney', 'free money'],
    ['free-money', 'free money'],
    ['ＦＲＥＥ　ｍｏｎｅｙ', 'free money'], // full-width letters and space
    ['𝐅𝐑𝐄𝐄', 'free'], // mathematical bold
    ['ca\u200Bfe', 'cafe'], // a zero-width space does not split a word
    ['İstanbul', 'istanbul'],
    ['STRASSE', 'strasse'],
    ['Straße', 'strasse'],
    ['ΟΔΟΣ', 'οδοσ'],
    ['Crème brûlée', 'creme brulee'],
    ['🍆', '🍆'],
    ['👍🏽', '👍'], // the skin tone is not part of the word
    ['abc中文', 'abc 中 文'],
    ['!!!', ''],
    ['   ', ''],
  ])('%j → %j', (raw, normalised) => {
    expect(normaliseHiddenWord(raw)).toBe(normalised);
  });
});

describe('matchesHiddenWords: the recipient list', () => {
  it.each<[string, string[], boolean]>([
    ['CAFÉ!', ['cafe'], true],
    ['meet me at the café', ['CAFE'], true],
    ['the cafeteria is open', ['cafe'], false], // whole words only
    ['decafe', ['cafe'], false],
    ['cafe', ['cafeteria'], false],
    ['FREE   money!', ['free money'], true],
    ['get free, money now', ['free money'], true],
    ['free of money', ['free money'], false], // a phrase's words in order, adjacent
    ['money free', ['free money'], false],
    ['freemoney', ['free money'], false],
    ['hello', ['cafe', 'hello'], true],
    ['hello', [], false],
    ['hello', ['!!!'], false], // an entry without words matches nothing
    ['nice 🍆', ['🍆'], true],
    ['nice🍆🍆', ['🍆'], true],
    ['我们去喝咖啡吧', ['咖啡'], true],
    ['ca\u200Bfe tonight?', ['cafe'], true],
    ['', ['cafe'], false],
  ])('%j with %j → %s', (text, phrases, hidden) => {
    expect(matchesHiddenWords(text, phrases, false)).toBe(hidden);
  });
});

describe('the built-in offensive-terms list', () => {
  it.each<[string, boolean]>([
    ['you are a fucking idiot', true],
    ['FUCK!', true],
    ['sh1t', true],
    ['f\u200Buck', true],
    ['fúck', true],
    ['hello there, loved your video', false],
    ['Scunthorpe', false],
    ['I passed the class', false],
  ])('%j → %s', (text, offensive) => {
    expect(containsOffensiveTerm(text)).toBe(offensive);
  });

  it('applies only when the option is on', () => {
    expect(matchesHiddenWords('you are a fucking idiot', [], true)).toBe(true);
    expect(matchesHiddenWords('you are a fucking idiot', [], false)).toBe(false);
    expect(matchesHiddenWords('you are a fucking idiot', ['cafe'], false)).toBe(false);
    expect(matchesHiddenWords('see you at the cafe', ['cafe'], false)).toBe(true);
  });
});
