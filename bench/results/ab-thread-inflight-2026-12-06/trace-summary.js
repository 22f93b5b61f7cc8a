const fs = require('fs');
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
for (const f of process.argv.slice(2)) {
  const rows = fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)).sort((a, b) => a[0] - b[0]);
  const first = rows.slice(0, 4000); // the 1000 msg/s run comes first
  const tot = first.map((r) => r[1] + r[2] + r[3] + r[4]);
  const p = (c) => q(first.map((r) => r[c]), 0.99);
  console.log(f.split('/').pop().padEnd(22), 'server total p50', q(tot, .5), 'p99', q(tot, .99), 'max', Math.max(...tot), '| p99 wait', p(1), 'took', p(2), 'heard', p(3), 'answer', p(4));
}
