import { BoundedCache } from '../../src/lib/bounded-cache';

it('forgets the oldest entry past its size', () => {
  const cache = new BoundedCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
});

it('with a maximum age, answers nothing older and drops expired entries as new ones arrive', () => {
  let now = 0;
  const cache = new BoundedCache<string, number>(100, 1000, () => now);
  cache.set('a', 1);
  now = 600;
  cache.set('b', 2);
  expect(cache.get('a')).toBe(1);
  now = 1000;
  expect(cache.get('a')).toBeUndefined();
  now = 1700;
  cache.set('c', 3); // 'b' (600) has expired by now: it is dropped, not kept until the size limit
  expect(cache.size).toBe(1);
  expect(cache.get('c')).toBe(3);
});

it('lists the values still within their age, oldest first', () => {
  let now = 0;
  const cache = new BoundedCache<string, { n: number }>(10, 1000, () => now);
  cache.set('a', { n: 1 });
  now = 500;
  cache.set('b', { n: 2 });
  expect([...cache.values()]).toEqual([{ n: 1 }, { n: 2 }]);
  now = 1200;
  expect([...cache.values()]).toEqual([{ n: 2 }]);
});
