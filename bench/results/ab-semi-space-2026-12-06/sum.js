const fs = require('fs');
const dir = process.argv[2] || '/tmp/ab-listener';
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const j = JSON.parse(fs.readFileSync(`${dir}/${f}`));
  for (const rep of j.reps) {
    const c = rep.chat;
    const o1 = c['ours-ws-1000'], b1 = c['bare-ws-1000'], o5 = c['ours-ws-5000'], o2 = c['ours-ws-2000'];
    const g = (x, p) => p.split('.').reduce((a, k) => (a == null ? a : a[k]), x);
    console.log(f.padEnd(14), '1000: p50', g(o1, 'delivery.p50'), 'p99', g(o1, 'delivery.p99'), 'bare p99', g(b1, 'delivery.p99'), 'srv', g(o1, 'perMessage.serverMs'), 'pg', g(o1, 'perMessage.postgresMs'), 'bareSrv', g(b1, 'perMessage.serverMs'),
      '| 5000 ack p99', g(o5, 'ack.p99'), 'durable', g(o5, 'durableRate'), 'shed', g(o5, 'failures.shed'), 'gc1000', JSON.stringify(g(o1, 'window.gc')), o2 ? `| 2000 durable ${g(o2, 'durableRate')}` : '');
  }
}
