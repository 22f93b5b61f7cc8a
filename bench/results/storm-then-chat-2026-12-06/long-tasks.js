const fs = require('fs');
const p = JSON.parse(fs.readFileSync(process.argv[2]));
const lastS = Number(process.argv[3] || 12);
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const name = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
let t = p.startTime;
const times = p.timeDeltas.map((d) => (t += d));
const end = p.endTime, from = end - lastS * 1e6;
// tasks: runs of samples not idle
const tasks = [];
let cur = null;
for (let i = 0; i < p.samples.length; i++) {
  if (times[i] < from) continue;
  const n = nodes.get(p.samples[i]);
  const idle = n.callFrame.functionName === '(idle)';
  const dt = (times[i + 1] ?? times[i]) - times[i];
  if (idle) { if (cur) { tasks.push(cur); cur = null; } continue; }
  cur ??= { start: times[i], us: 0, selfs: new Map(), stacks: new Map() };
  cur.us += dt;
  const k = name(n); cur.selfs.set(k, (cur.selfs.get(k) || 0) + dt);
  // an app-level frame on the stack (first from the top that is in dist/src)
  let a = n.id, app = null, chain = [];
  while (a) { const nn = nodes.get(a); if (!app && nn.callFrame.url.includes('/dist/src/')) app = name(nn); chain.push(nn); a = parent.get(a); }
  const root = chain.length > 2 ? name(chain[chain.length - 3]) : '';
  const key = `${app || '-'} | ${root}`;
  cur.stacks.set(key, (cur.stacks.get(key) || 0) + dt);
}
if (cur) tasks.push(cur);
tasks.sort((a, b) => b.us - a.us);
console.log('tasks in window', tasks.length, 'over 10ms', tasks.filter((x) => x.us > 10000).length, 'over 20ms', tasks.filter((x) => x.us > 20000).length);
for (const task of tasks.slice(0, 8)) {
  console.log(`\n== task at +${((task.start - from) / 1e6).toFixed(2)}s: ${(task.us / 1000).toFixed(1)} ms`);
  console.log('  self:', [...task.selfs].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join('; '));
  console.log('  app|root:', [...task.stacks].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join('\n     '));
}
