import { buildSchema, parse } from 'graphql';
import { checkCost } from '../../src/graphql/limits';

/** The cost check remembers passes per document, keyed by the page sizes: never a refusal. */
const schema = buildSchema(`
  type Item { id: ID! name: String! tags: [String!]! }
  type Query { items(first: Int, last: Int, filter: String): [Item!]! }
`);
const doc = parse(`query Items($n: Int, $f: String) { items(first: $n, filter: $f) { id name tags } }`);
const MAX = 100;

it('checks each page size on its own, however often a document passed before', () => {
  // 1 + 4 × 10 = 41: passes, and is remembered for n = 10.
  expect(checkCost(schema, doc, { n: 10, f: 'a' }, 'Items', MAX)).toBeNull();
  expect(checkCost(schema, doc, { n: 10, f: 'b' }, 'Items', MAX)).toBeNull();
  // 1 + 4 × 50 = 201: over the limit, whatever passed before with another page size.
  for (let i = 0; i < 3; i++) expect(checkCost(schema, doc, { n: 50, f: 'a' }, 'Items', MAX)?.extensions.code).toBe('QUERY_TOO_COMPLEX');
  expect(checkCost(schema, doc, { n: 10, f: 'c' }, 'Items', MAX)).toBeNull();
});

it('reads page sizes given inline, in fragments and as `last`', () => {
  const inline = parse(`{ a: items(first: 10) { id } b: items(last: 90) { id name } }`);
  expect(checkCost(schema, inline, {}, undefined, MAX)?.extensions.code).toBe('QUERY_TOO_COMPLEX');
  const fragment = parse(`query Q($m: Int) { ...F } fragment F on Query { items(last: $m) { id name tags } }`);
  expect(checkCost(schema, fragment, { m: 5 }, 'Q', MAX)).toBeNull();
  expect(checkCost(schema, fragment, { m: 40 }, 'Q', MAX)?.extensions.code).toBe('QUERY_TOO_COMPLEX');
});

it('refuses variables of the wrong type the same way, whether or not the document passed before', () => {
  const typed = parse(`query T($n: Int, $f: String) { items(first: $n, filter: $f) { id } }`);
  const first = checkCost(schema, typed, { n: 5, f: 12 }, 'T', MAX);
  expect(first?.extensions.code).toBe('BAD_USER_INPUT');
  expect(checkCost(schema, typed, { n: 5, f: 'ok' }, 'T', MAX)).toBeNull(); // a pass, remembered
  const again = checkCost(schema, typed, { n: 5, f: 12 }, 'T', MAX);
  expect(again?.extensions.code).toBe('BAD_USER_INPUT');
  expect(again?.message).toBe(first?.message);
});

it('counts a paged field asked without first/last at its default page of 20', () => {
  const nested = buildSchema(`
    type Node { id: ID! children(first: Int, last: Int): [Node!]! }
    type Query { nodes(first: Int, last: Int): [Node!]! }
  `);
  // 1 + 20 × (1 + 1 + 20 × 1) = 441: over 400 only because the default pages count.
  const doc = parse(`{ nodes { id children { id } } }`);
  expect(checkCost(nested, doc, {}, undefined, 400)?.extensions.code).toBe('QUERY_TOO_COMPLEX');
  expect(checkCost(nested, doc, {}, undefined, 441)).toBeNull();
});
