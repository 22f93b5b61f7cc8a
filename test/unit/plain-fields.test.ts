import { getMetadataStorage } from 'type-graphql';
import { buildAppSchema } from '../../src/graphql/schema';

/**
 * Fields served by graphql-js's default resolver (`simpleResolvers`, src/graphql/plain-fields.ts)
 * skip type-graphql's wrapper, and with it any middleware or auth rule put on them: such a
 * rule would silently not run. None may have one.
 */
it('no field read without type-graphql\'s wrapper has a middleware or an auth rule', async () => {
  await buildAppSchema();
  const storage = getMetadataStorage();
  const simpleTypes = new Set(storage.objectTypes.filter((t) => t.simpleResolvers).map((t) => t.target));
  const hasOwnResolver = (target: Function, name: string) =>
    storage.fieldResolvers.some((r) => r.getObjectType?.() === target && r.methodName === name);
  const plain = storage.fields.filter((f) => (f.simple ?? simpleTypes.has(f.target)) && !hasOwnResolver(f.target, f.name));

  expect(plain.map((f) => `${f.target.name}.${f.name}`)).toEqual(expect.arrayContaining(['Message.text', 'MessageEvent.message', 'User.id']));
  const guarded = plain.filter((f) => (f.middlewares?.length ?? 0) > 0 || f.roles !== undefined).map((f) => `${f.target.name}.${f.name}`);
  expect(guarded).toEqual([]);
});
