import { median, round } from './common';
import type { ProfileSummary } from './profile';
import type { CapturedOp } from './replay-types';
import type { SeedInfo } from './seed';
import type { HttpWorkload, RepResult, Settings } from '../run';
import type { OpenLoopResult } from './realtime';

/** Medians over the repetitions, the targets of issue 7, a JSON file and a markdown table. */

interface Input {
  settings: Settings;
  machine: Record<string, unknown>;
  seed: SeedInfo;
  reps: RepResult[];
  captured: { ops: Record<string, CapturedOp>; delivery: Record<string, unknown> } | null;
  profile: { file: string | null; summaries: ProfileSummary[] } | null;
  seconds: number;
}

interface Target {
  target: string;
  measured: string;
  met: boolean | null;
  note: string;
}

const fmt = (x: number | null | undefined, d = 1) => (x == null ? '–' : String(round(x, d)));
const med = (xs: Array<number | null | undefined>) => median(xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));

const LABELS: Record<string, string> = {
  helloBare: 'bare Apollo `{ hello }` (ceiling)',
  hello: 'our `{ __typename }`, with a token',
  helloAnonymous: 'our `{ __typename }`, anonymous',
  messageRequests10: 'messageRequests(first: 10), hot account (10k pending)',
  messageRequests50: 'messageRequests(first: 50), hot account',
  conversations10: 'conversations(first: 10), last message + unread',
  conversations50: 'conversations(first: 50), last message + unread',
  sendMessageRequest: 'sendMessageRequest (new pair)',
  acceptMessageRequest: 'acceptMessageRequest',
  sendMessage: 'sendMessage (open conversation)',
  markConversationSeen: 'markConversationSeen (pointer moves)',
};

export function buildReport(inp: Input): { json: unknown; markdown: string } {
  const { reps, captured } = inp;
  const sql = (name: string) => {
    const op = captured?.ops[name];
    return op ? { wire: op.statements.filter((s) => !s.error).length, typeorm: op.typeormCount, ok: op.ok } : null;
  };

  // ---- HTTP rows ----------------------------------------------------------------------------------
  const names = [...new Set(reps.flatMap((r) => Object.keys(r.http)))];
  const ratioOf = (name: string, r: RepResult): number | null => {
    const w = r.http[name];
    if (!w) return null;
    if (name === 'hello' || name === 'helloAnonymous') return r.http.helloBare ? w.max.rps / r.http.helloBare.max.rps : null;
    return w.replay && w.replay.ops > 0 ? w.max.rps / w.replay.ops : null;
  };
  const httpRows = names.map((name) => {
    const ws = reps.map((r) => r.http[name]).filter(Boolean) as HttpWorkload[];
    const s = sql(name === 'helloAnonymous' ? 'hello' : name);
    return {
      name,
      label: LABELS[name] ?? name,
      maxRps: med(ws.map((w) => w.max.rps)),
      p50: med(ws.map((w) => w.half?.latency.p50)),
      p99: med(ws.map((w) => w.half?.latency.p99)),
      p99AtMax: med(ws.map((w) => w.max.latency.p99)),
      sqlWire: name === 'helloBare' ? 0 : s?.wire ?? null,
      sqlTypeorm: name === 'helloBare' ? 0 : s?.typeorm ?? null,
      ceiling: name === 'hello' || name === 'helloAnonymous' ? med(reps.map((r) => r.http.helloBare?.max.rps)) : med(ws.map((w) => w.replay?.ops)),
      ratio: med(reps.map((r) => ratioOf(name, r))),
      ratios: reps.map((r) => round(ratioOf(name, r), 2)),
      errors: ws.reduce((a, w) => a + w.max.errors + w.max.non2xx + w.max.gqlErrors + (w.half ? w.half.errors + w.half.non2xx + w.half.gqlErrors : 0), 0),
      replayErrors: ws.reduce((a, w) => a + (w.replay?.errors ?? 0), 0),
      cpu: {
        server: med(ws.map((w) => w.cpu.server)),
        postgres: med(ws.map((w) => w.cpu.postgres)),
        loadgen: med(ws.map((w) => w.cpu.loadgen)),
        others: med(ws.map((w) => w.cpu.others)),
      },
      sampleError: ws.find((w) => w.max.sampleError)?.max.sampleError,
    };
  });
  const row = (name: string) => httpRows.find((r) => r.name === name);

  // ---- realtime -------------------------------------------------------------------------------------
  const chatKeys = [...new Set(reps.flatMap((r) => Object.keys(r.chat)))];
  const chatRows = chatKeys.map((key) => {
    const rs = reps.map((r) => r.chat[key]).filter(Boolean) as OpenLoopResult[];
    const [server, via, rate] = key.split('-');
    return {
      key,
      server,
      via,
      rate: Number(rate),
      achieved: med(rs.map((x) => x.achievedRate)),
      acked: med(rs.map((x) => x.acked)),
      delivered: med(rs.map((x) => x.delivered)),
      // Medians, like every column; `anyLoss` keeps "nothing lost" strict over all repetitions.
      lost: med(rs.map((x) => x.lost)) ?? 0,
      skipped: med(rs.map((x) => x.skipped)) ?? 0,
      failed: med(rs.map((x) => x.failed)) ?? 0,
      anyLoss: rs.some((x) => x.lost > 0 || x.skipped > 0 || x.failed > 0),
      p50: med(rs.map((x) => x.delivery.p50)),
      p99: med(rs.map((x) => x.delivery.p99)),
      ackP99: med(rs.map((x) => x.ack.p99)),
      durable: rs.every((x) => x.durableInDb == null || x.durableInDb === x.acked),
      inEventLog: rs.every((x) => x.inEventLog == null) ? null : rs.every((x) => x.inEventLog == null || x.inEventLog === x.acked),
      cpu: {
        server: med(rs.map((x) => x.cpu?.server)),
        postgres: med(rs.map((x) => x.cpu?.postgres)),
        loadgen: med(rs.map((x) => x.cpu?.loadgen)),
        others: med(rs.map((x) => x.cpu?.others)),
      },
      saturated: rs.filter((x) => x.saturated).length,
      lagP99: med(rs.map((x) => x.scheduleLagP99)),
      sampleError: rs.find((x) => x.sampleError)?.sampleError,
      pairs: rs[0]?.pairs ?? inp.settings.chatPairs,
    };
  });
  const seen = (label: 'ours' | 'bare') => {
    const rs = reps.map((r) => r.seen[label]).filter((x): x is OpenLoopResult => typeof x === 'object' && x !== null);
    return rs.length
      ? {
          rate: med(reps.map((r) => r.seen.rate as number)),
          achieved: med(rs.map((x) => x.achievedRate)),
          p50: med(rs.map((x) => x.delivery.p50)),
          p99: med(rs.map((x) => x.delivery.p99)),
          lost: med(rs.map((x) => x.lost)) ?? 0,
          anyLoss: rs.some((x) => x.lost > 0),
          delivered: med(rs.map((x) => x.delivered)),
          sent: med(rs.map((x) => x.sent)),
        }
      : null;
  };
  const stormKeys = [...new Set(reps.flatMap((r) => Object.keys(r.storms)))];
  const storms = Object.fromEntries(
    stormKeys.map((k) => [
      k,
      {
        seconds: med(reps.map((r) => r.storms[k]?.seconds)),
        connectedSeconds: med(reps.map((r) => r.storms[k]?.connectedSeconds)),
        all: reps.map((r) => r.storms[k]?.seconds ?? null),
        subscribed: med(reps.map((r) => r.storms[k]?.subscribed)),
        signal: reps[0].storms[k]?.signal,
      },
    ]),
  );
  const memory = (label: string) => ({
    rssKb: med(reps.map((r) => r.memory[label]?.rssPerSubscriberKb)),
    heapKb: med(reps.map((r) => r.memory[label]?.heapPerSubscriberKb)),
  });
  const mixed = (key: string) => {
    const ws = reps.map((r) => r.mixed[key]).filter(Boolean) as HttpWorkload[];
    return ws.length ? { maxRps: med(ws.map((w) => w.max.rps)), p50: med(ws.map((w) => w.half?.latency.p50)), p99: med(ws.map((w) => w.half?.latency.p99)), errors: ws.reduce((a, w) => a + w.max.gqlErrors + w.max.non2xx + w.max.errors, 0) } : null;
  };

  // ---- targets ----------------------------------------------------------------------------------------
  const targets: Target[] = [];
  const ratioTarget = (name: string, min: number, what: string) => {
    const r = row(name);
    if (!r || r.ratio == null) return;
    targets.push({
      target: `${what} ≥ ${min} × ${name.startsWith('hello') ? 'bare Apollo' : 'its SQL replay'}`,
      measured: `${fmt(r.ratio, 2)} (${fmt(r.maxRps, 0)} vs ${fmt(r.ceiling, 0)} ops/s; per repetition ${r.ratios.join(', ')})`,
      met: r.ratio >= min,
      note: r.ratio >= min ? '' : `missed by ${fmt((1 - r.ratio / min) * 100, 0)} % (needs ${fmt(r.ceiling! * min, 0)} ops/s)`,
    });
  };
  ratioTarget('hello', 0.8, 'our `{ __typename }`');
  ratioTarget('sendMessageRequest', 0.7, 'sendMessageRequest');
  ratioTarget('sendMessage', 0.6, 'sendMessage');
  for (const page of ['messageRequests', 'conversations']) {
    const a = sql(`${page}10`);
    const b = sql(`${page}50`);
    if (a && b) {
      targets.push({
        target: `${page}: same SQL count at page size 10 and 50, ≤ 4`,
        measured: `${a.wire} and ${b.wire} statements (TypeORM: ${a.typeorm} and ${b.typeorm})`,
        met: a.wire === b.wire && b.wire <= 4,
        note: a.wire === b.wire && b.wire <= 4 ? '' : a.wire !== b.wire ? 'count grows with the page (N+1)' : `${b.wire - 4} over`,
      });
    }
  }
  const so = seen('ours');
  if (so) {
    targets.push({
      target: 'seen-receipt delivery p99 ≤ 50 ms at 25 % of capacity',
      measured: `p99 ${fmt(so.p99)} ms (p50 ${fmt(so.p50)}) at ${fmt(so.rate, 0)}/s; ${so.lost} lost`,
      met: so.p99 != null && so.p99 <= 50 && !so.anyLoss,
      note: so.p99 != null && so.p99 > 50 ? `missed by ${fmt(so.p99 - 50)} ms` : '',
    });
  }
  const mo = memory('ours');
  if (mo.rssKb != null) {
    targets.push({
      target: 'memory per connected subscriber ≤ 24 KB',
      measured: `${fmt(mo.rssKb)} KB RSS (${fmt(mo.heapKb)} KB heap+external after GC)`,
      met: mo.rssKb <= 24,
      note: mo.rssKb > 24 ? `missed by ${fmt(mo.rssKb - 24)} KB` : '',
    });
  }
  for (const [n, limit] of [
    [inp.settings.storms[0], 2],
    [inp.settings.storms[1], n14(inp.settings.storms[1])],
  ] as Array<[number, number]>) {
    const st = storms[`ours${n}`];
    if (!st) continue;
    targets.push({
      target: `${n} sockets connect + subscribe ≤ ${limit} s`,
      measured: `${fmt(st.seconds, 2)} s (all connected at ${fmt(st.connectedSeconds, 2)} s; bare: ${fmt(storms[`bare${n}`]?.seconds, 2)} s)`,
      met: st.seconds != null && st.seconds <= limit,
      note: st.seconds == null ? 'not all subscribed' : st.seconds > limit ? `missed by ${fmt(st.seconds - limit, 2)} s` : '',
    });
  }
  for (const [rate, limit] of [
    [1000, 15],
    [5000, 50],
  ]) {
    for (const via of ['http', 'ws']) {
      const c = chatRows.find((x) => x.key === `ours-${via}-${rate}`);
      if (!c) continue;
      const ok = c.p99 != null && c.p99 <= limit && !c.anyLoss && c.durable;
      targets.push({
        target: `chat ${c.pairs} pairs at ${rate} msg/s over ${via === 'ws' ? 'graphql-ws' : 'HTTP'}: p99 ≤ ${limit} ms, nothing lost, durable`,
        measured: `p99 ${fmt(c.p99)} ms (p50 ${fmt(c.p50)}), sent ${fmt(c.achieved, 0)}/s; not sent (backlog) ${c.skipped}, failed ${c.failed}, not delivered within ${inp.settings.drainMs / 1000} s ${c.lost}; durable ${c.durable ? 'yes' : 'NO'}, in event log ${c.inEventLog == null ? '–' : c.inEventLog ? 'yes' : 'NO'}`,
        met: ok,
        note: ok ? '' : c.p99 != null && c.p99 > limit ? `missed by ${fmt(c.p99 - limit)} ms (×${fmt(c.p99 / limit, 1)})${c.skipped ? '; the server could not keep up with the rate' : ''}` : 'saturated',
      });
    }
  }

  const json = {
    date: new Date().toISOString(),
    runSeconds: inp.seconds,
    settings: inp.settings,
    machine: inp.machine,
    seed: inp.seed,
    sql: captured
      ? Object.fromEntries(
          Object.entries(captured.ops).map(([k, o]) => [
            k,
            { onTheWire: o.statements.filter((s) => !s.error).length, typeorm: o.typeormCount, ok: o.ok, ms: o.ms, statements: o.statements.map((s) => s.text.replace(/\s+/g, ' ').slice(0, 240)) },
          ]),
        )
      : null,
    delivery: captured?.delivery ?? null,
    summary: { http: httpRows, chat: chatRows, seen: { ours: so, bare: seen('bare') }, storms, memory: { ours: mo, bare: memory('bare') }, mixed: { noSubscribers: mixed('noSubscribers'), idleSubscribers: mixed('idleSubscribers') }, targets },
    profile: inp.profile,
    reps,
  };

  // ---- markdown -----------------------------------------------------------------------------------------
  const L: string[] = [];
  const m = inp.machine as { cpus: number; cpuModel: string; node: string; postgres: { version: string; synchronous_commit: string } };
  L.push(`# Benchmark ${json.date.slice(0, 16).replace('T', ' ')} UTC${inp.settings.quick ? ' (quick)' : ''}`);
  L.push('');
  L.push(
    `${inp.settings.reps} repetition(s), medians; ${m.cpus} cores (${m.cpuModel}), Node ${m.node}, PostgreSQL ${m.postgres.version} (synchronous_commit ${m.postgres.synchronous_commit}); ` +
      `seed scale ${inp.seed.scale}: ${inp.seed.counts.users} users, ${inp.seed.counts.follows} follows, ${inp.seed.counts.openConversations} open conversations, ` +
      `${inp.seed.counts.messages} messages, ${inp.seed.counts.requests} requests (${inp.seed.counts.hotPending} pending to the hot account); ${inp.seed.reused ? 'seed reused' : `seeded in ${inp.seed.seedSeconds} s`}; run ${inp.seconds} s.`,
  );
  L.push('');
  L.push('## Operations over HTTP');
  L.push('');
  L.push('| workload | max ops/s | p50 / p99 at 50 % (ms) | SQL/op (TypeORM) | ceiling ops/s | ratio | CPU at max: server / pg / others |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of httpRows) {
    L.push(
      `| ${r.label} | ${fmt(r.maxRps, 0)} | ${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} | ${r.sqlWire ?? '–'}${r.sqlTypeorm != null && r.sqlTypeorm !== r.sqlWire ? ` (${r.sqlTypeorm})` : ''} | ${r.name === 'helloBare' ? '' : fmt(r.ceiling, 0)} | ${r.name === 'helloBare' ? '' : fmt(r.ratio, 2)} | ${fmt(r.cpu.server, 0)} / ${fmt(r.cpu.postgres, 0)} / ${fmt(r.cpu.others, 0)} % |`,
    );
  }
  const mx = mixed('noSubscribers');
  const mi = mixed('idleSubscribers');
  if (mx || mi) {
    L.push(`| mixed (30 % inbox, 10 % requests, 10 % history, 30 % send, 15 % seen, 5 % request/accept) | ${fmt(mx?.maxRps, 0)} |  |  |  |  |  |`);
    if (mi) L.push(`| the same mix with ${inp.settings.storms[1]} idle subscribers | ${fmt(mi.maxRps, 0)} | ${fmt(mi.p50, 2)} / ${fmt(mi.p99, 2)} |  | ${fmt(mx?.maxRps, 0)} | ${mx?.maxRps ? fmt(mi.maxRps! / mx.maxRps, 2) : '–'} |  |`);
  }
  L.push('');
  L.push('Ceiling: bare Apollo for `{ hello }`; for the others, the same SQL statements replayed with node-postgres on ' + `${inp.settings.replayConnections} connections. SQL/op counts every statement on the wire (BEGIN/COMMIT and the rate limiter's included); TypeORM's own count in brackets where it differs.`);
  L.push('');
  L.push('## Realtime');
  L.push('');
  L.push('Medians of the repetitions; counts are per run (one run sends for ' + `${inp.settings.chatSeconds} s).`);
  L.push('');
  L.push(`| workload | server | mutation via | target rate | sent/s | delivered live | not delivered in ${inp.settings.drainMs / 1000} s | p50 / p99 (ms) | ack p99 (ms) | durable, in event log | CPU server / pg / loadgen / others |`);
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const c of chatRows) {
    L.push(
      `| chat ${c.pairs} pairs | ${c.server} | ${c.via === 'ws' ? 'graphql-ws' : 'HTTP'} | ${c.rate} | ${fmt(c.achieved, 0)}${c.skipped ? ` (${c.skipped} not sent: backlog)` : ''}${c.failed ? ` (${c.failed} failed)` : ''} | ${fmt(c.delivered, 0)} | ${c.lost} | ${fmt(c.p50, 1)} / ${fmt(c.p99, 1)} | ${fmt(c.ackP99, 1)} | ${c.server === 'bare' ? 'n/a (in memory)' : `${c.durable ? 'yes' : 'NO'}, ${c.inEventLog == null ? '–' : c.inEventLog ? 'yes' : 'NO'}`} | ${fmt(c.cpu.server, 0)} / ${fmt(c.cpu.postgres, 0)} / ${fmt(c.cpu.loadgen, 0)} / ${fmt(c.cpu.others, 0)} % |`,
    );
  }
  for (const label of ['ours', 'bare'] as const) {
    const s = seen(label);
    if (s) L.push(`| seen receipt → messageSeen | ${label} | HTTP | ${fmt(s.rate, 0)} (25 % of capacity) | ${fmt(s.achieved, 0)} | ${fmt(s.delivered, 0)} | ${s.lost} | ${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} |  |  |  |`);
  }
  if (Object.keys(storms).length) {
  L.push('');
  L.push('| sockets | ours: all subscribed (s) | bare (s) | memory per subscriber, ours | bare |');
  L.push('|---:|---:|---:|---:|---:|');
  for (const n of inp.settings.storms) {
    const o = storms[`ours${n}`];
    const b = storms[`bare${n}`];
    const isBig = n === inp.settings.storms[1];
    L.push(
      `| ${n} | ${fmt(o?.seconds, 2)} | ${fmt(b?.seconds, 2)} | ${isBig ? `${fmt(mo.rssKb)} KB RSS / ${fmt(mo.heapKb)} KB heap` : ''} | ${isBig ? `${fmt(memory('bare').rssKb)} KB / ${fmt(memory('bare').heapKb)} KB` : ''} |`,
    );
  }
  }
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| target | measured | met | note |');
  L.push('|---|---|---|---|');
  for (const t of targets) L.push(`| ${t.target} | ${t.measured} | ${t.met == null ? '–' : t.met ? 'yes' : '**no**'} | ${t.note} |`);
  if (inp.profile?.summaries.length) {
    L.push('');
    L.push(`## Where the server's time goes (node --cpu-prof, ${inp.profile.file ?? ''})`);
    L.push('');
    for (const s of inp.profile.summaries) {
      L.push(`- **${s.workload}** — main thread busy ${s.busyPct} % of the window.`);
      L.push(`  - self time by package: ${s.byPackageSelf.slice(0, 10).map((p) => `${p.pkg} ${p.pct} %`).join(', ')}`);
      L.push(`  - inclusive (time with the package on the stack): ${s.byPackageInclusive.filter((p) => !p.pkg.startsWith('(') && p.pkg !== 'node (core)').slice(0, 10).map((p) => `${p.pkg} ${p.pct} %`).join(', ')}`);
      L.push(`  - top functions (self): ${s.topSelf.slice(0, 6).map((f) => `\`${f.fn}\` ${f.pct} %`).join(', ')}`);
    }
  }
  const errs = httpRows.filter((r) => r.errors || r.replayErrors);
  if (errs.length) {
    L.push('');
    L.push('Errors: ' + errs.map((r) => `${r.name}: ${r.errors} in the HTTP runs, ${r.replayErrors} in the replay${r.sampleError ? ` (${r.sampleError.slice(0, 160)})` : ''}`).join('; '));
  }
  L.push('');
  return { json, markdown: L.join('\n') };
}

function n14(n: number): number {
  // 10k sockets: 14 s (the issue); a smaller quick storm gets the same rate.
  return n >= 10000 ? 14 : Math.max(2, Math.round((14 * n) / 10000 * 10) / 10);
}
