import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/graphql/errors';

/**
 * Client developers look codes up in docs/errors.md: every code the server can send must
 * have a `### CODE` entry there that says something.
 */
const DOC = path.resolve(__dirname, '..', '..', 'docs', 'errors.md');
const text = readFileSync(DOC, 'utf8');

/** The body of each `### CODE` section, up to the next heading. */
function entries(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  const parts = markdown.split(/^(?=#{1,3} )/m);
  for (const part of parts) {
    const m = /^### ([A-Z][A-Z0-9_]*)[ \t]*\n([\s\S]*)$/.exec(part);
    if (m) found.set(m[1], m[2].trim());
  }
  return found;
}

const documented = entries(text);
const APOLLO_CODES = ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST'];

describe('docs/errors.md', () => {
  it('has a `### CODE` entry for every code in ERROR_CODES', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  it("documents Apollo's own codes a client can receive", () => {
    expect(APOLLO_CODES.filter((code) => !documented.has(code))).toEqual([]);
  });

  it('says what each code means and what a client should show', () => {
    const thin = [...documented].filter(([, body]) => body.length < 40).map(([code]) => code);
    expect(thin).toEqual([]);
  });

  it('documents each code once', () => {
    const headings = [...text.matchAll(/^### ([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => m[1]);
    expect(headings.filter((h, i) => headings.indexOf(h) !== i)).toEqual([]);
  });
});
