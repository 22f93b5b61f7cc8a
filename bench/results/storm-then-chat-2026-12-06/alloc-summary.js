const p = JSON.parse(require('fs').readFileSync(process.argv[2]));
const self = new Map(), incl = new Map();
let total = 0;
const name = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '')}:${cf.lineNumber}`;
function walk(n, stack) {
  const k = name(n.callFrame);
  const s = n.selfSize;
  total += s;
  self.set(k, (self.get(k) || 0) + s);
  const here = [...stack, k];
  let sum = s;
  for (const c of n.children) sum += walk(c, here);
  // inclusive by app frame
  return sum;
}
walk(p.head, []);
// inclusive per function (count once per path)
function incl2(n, seen) {
  const k = name(n.callFrame);
  let sum = n.selfSize;
  for (const c of n.children) sum += incl2(c, new Set([...seen, k]));
  if (!seen.has(k)) incl.set(k, (incl.get(k) || 0) + sum);
  return sum;
}
incl2(p.head, new Set());
const mb = (b) => (b / 1048576).toFixed(1);
console.log('total sampled MB', mb(total));
console.log('--- self');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(mb(v).padStart(7), (100 * v / total).toFixed(1).padStart(5) + '%', k);
console.log('--- inclusive (src / graphql-ws / graphql / ws / pg)');
for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).filter(([k]) => /dist\/src|graphql-ws|graphql\/|ws\/lib|pg\/lib|type-graphql/.test(k)).slice(0, 40)) console.log(mb(v).padStart(7), (100 * v / total).toFixed(1).padStart(5) + '%', k);
