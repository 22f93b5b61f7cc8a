import { ensureSeed } from './lib/seed';

/** `node dist/bench/seed-only.js [scale] [--reseed]`: builds (or reuses) the seed database alone. */
const scale = Number(process.argv.find((a) => /^[0-9.]+$/.test(a)) ?? '1');
ensureSeed(scale, process.argv.includes('--reseed')).then(
  (info) => console.log(JSON.stringify(info, null, 2)),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
