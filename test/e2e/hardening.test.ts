import { parse, validate, specifiedRules } from 'graphql';
import { buildAppSchema } from '../../src/graphql/schema';
import { depthLimitRule, operationCost } from '../../src/graphql/limits';

function bomb(n: number, k: number) {
  const frags = [];
  for (let i = 0; i < n; i++) frags.push(`fragment F${i} on User { id ${Array(k).fill(`...F${i + 1}`).join(' ')} }`);
  frags.push(`fragment F${n} on User { id }`);
  return `{ me { ...F0 } } ${frags.join(' ')}`;
}
it('probe', async () => {
  const schema = await buildAppSchema();
  for (const [n, k] of [[4, 4], [6, 4], [8, 4], [9, 4], [10,4], [12, 4], [20, 20]]) {
    const doc = parse(bomb(n, k), { maxTokens: 1000 });
    let t = Date.now();
    validate(schema, doc, specifiedRules); const a = Date.now() - t; t = Date.now();
    validate(schema, doc, [depthLimitRule(10)]); const b = Date.now() - t; t = Date.now();
    let c: unknown; try { c = operationCost(schema, doc, {}, undefined); } catch (e) { c = String(e); } 
    console.log(n, k, 'spec', a, 'depth', b, 'cost', c, Date.now() - t);
  }
});
