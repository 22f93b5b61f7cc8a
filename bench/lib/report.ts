import { median, round } from './common';
import type { ProfileSummary } from './profile';
import type { CapturedOp } from './replay-types';
import type { SeedInfo } from './seed';
import type { HttpWorkload, RepResult, Settings } from '../run';
import type { OpenLoopResult } from './realtime';
import type { PgSettingsRecord } from './pg-settings';

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
    const perRep = reps.map((r) => ({ rep: r.rep, x: r.chat[key] })).filter((p): p is { rep: number; x: OpenLoopResult } => Boolean(p.x));
    const rs = perRep.map((p) => p.x);
    const [label, via, rate] = key.split('-');
    const server = label === 'bare' ? 'bare' : 'ours';
    const sum = (f: (x: OpenLoopResult) => number | undefined) => rs.reduce((a, x) => a + (f(x) ?? 0), 0);
    // The same run on the bare server in the same repetition: p99 against p99.
    const bareP99 = (rep: number) => reps.find((r) => r.rep === rep)?.chat[`bare-${via}-${rate}`]?.delivery.p99 ?? null;
    return {
      key,
      label,
      server,
      badge: label.endsWith('+badge'),
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
      bareP99: med(perRep.map((p) => bareP99(p.rep))),
      p99OverBare: med(perRep.map((p) => (p.x.delivery.p99 != null && bareP99(p.rep) ? p.x.delivery.p99 / bareP99(p.rep)! : null))),
      failures: { internal: sum((x) => x.failures?.internal), shed: sum((x) => x.failures?.shed), other: sum((x) => x.failures?.other) },
      failureCodes: rs.reduce<Record<string, number>>((a, x) => {
        for (const [c, n] of Object.entries(x.failures?.codes ?? {})) a[c] = (a[c] ?? 0) + n;
        return a;
      }, {}),
      sampleInternal: rs.find((x) => x.failures?.sampleInternal)?.failures?.sampleInternal,
      durableRate: med(rs.map((x) => x.durableRate)),
      serverMsPerMsg: med(rs.map((x) => x.perMessage?.serverMs)),
      postgresMsPerMsg: med(rs.map((x) => x.perMessage?.postgresMs)),
      // The window's PostgreSQL CPU and the vacuum of its own garbage, per repetition, then the median.
      postgresWithVacuumMsPerMsg: med(rs.map((x) => (x.perMessage?.postgresMs == null || x.perMessage.vacuumMs == null ? null : x.perMessage.postgresMs + x.perMessage.vacuumMs))),
      vacuumMsPerMsg: med(rs.map((x) => x.perMessage?.vacuumMs)),
      serverWritesPerMsg: med(rs.map((x) => x.perMessage?.serverWrites)),
      walBytesPerMsg: med(rs.map((x) => x.perMessage?.walBytes)),
      walFpiPerMsg: med(rs.map((x) => x.perMessage?.walFpi)),
      badgePerMsg: med(rs.map((x) => (x.badgeUpdates != null && x.acked ? x.badgeUpdates / x.acked : null))),
      // Per repetition, not medians: one checkpoint or one long pause is the news.
      windows: perRep.map((p) => ({ rep: p.rep, w: p.x.window })),
      integrity: perRep.map((p) => ({ rep: p.rep, i: p.x.integrity })),
      members: rs.flatMap((x) => (x.window?.members ? [x.window.members] : [])),
    };
  });
  const integrityOf = (c: (typeof chatRows)[number]) => {
    const checked = c.integrity.filter((p) => p.i);
    const failed = checked.filter((p) => !p.i!.ok);
    return { checked: checked.length, failed, ok: checked.length > 0 && failed.length === 0 };
  };
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
    for (const label of ['ours', 'ours+badge']) {
      for (const via of ['http', 'ws']) {
        const c = chatRows.find((x) => x.key === `${label}-${via}-${rate}`);
        if (!c) continue;
        const proof = integrityOf(c);
        const ok = c.p99 != null && c.p99 <= limit && !c.anyLoss && c.durable && c.inEventLog !== false && proof.ok;
        targets.push({
          target: `chat ${c.pairs} pairs${c.badge ? ' + inboxBadgeChanged' : ''} at ${rate} msg/s over ${via === 'ws' ? 'graphql-ws' : 'HTTP'}: p99 ≤ ${limit} ms, no backlog, 0 failed, durable, in the event log, checks pass`,
          measured:
            `p99 ${fmt(c.p99)} ms (p50 ${fmt(c.p50)}) against bare ${fmt(c.bareP99)} ms in the same repetitions (×${fmt(c.p99OverBare, 1)}), sent ${fmt(c.achieved, 0)}/s; ` +
            `not sent (backlog) ${c.skipped}, failed ${c.failed}, not delivered within ${inp.settings.drainMs / 1000} s ${c.lost}; durable ${c.durable ? 'yes' : 'NO'}, in event log ${c.inEventLog == null ? '–' : c.inEventLog ? 'yes' : 'NO'}; ` +
            `checks ${proof.checked === 0 ? 'not run' : proof.ok ? `passed (${proof.checked} runs)` : `FAILED in ${proof.failed.length} of ${proof.checked}`}`,
          met: ok,
          note: ok
            ? ''
            : [
                c.p99 != null && c.p99 > limit ? `missed by ${fmt(c.p99 - limit)} ms (×${fmt(c.p99 / limit, 1)})` : '',
                c.skipped ? 'the server could not keep up with the rate' : '',
                proof.failed.length ? 'invariants broken' : '',
              ]
                .filter(Boolean)
                .join('; ') || 'saturated',
        });
      }
    }
  }
  // CPU per message: the issue's budget, at the 1k rate over graphql-ws.
  for (const label of ['ours', 'ours+badge']) {
    const c = chatRows.find((x) => x.key === `${label}-ws-1000`);
    if (!c || c.serverMsPerMsg == null) continue;
    // A run whose sends failed did not do a message's work: its CPU per message proves nothing.
    const clean = c.failed === 0;
    // The issue's budget is the CPU inside the window; the vacuum of the window's own garbage
    // (after it, as autovacuum would) is reported beside it, not hidden (docs/decisions.md).
    const ok = clean && c.serverMsPerMsg <= 0.8 && c.postgresMsPerMsg != null && c.postgresMsPerMsg <= 0.5;
    targets.push({
      target: `CPU per message, chat${c.badge ? ' + inboxBadgeChanged' : ''} at 1000 msg/s over graphql-ws: server ≤ 0.8 ms, PostgreSQL ≤ 0.5 ms`,
      measured:
        `server ${fmt(c.serverMsPerMsg, 3)} ms, PostgreSQL ${fmt(c.postgresMsPerMsg, 3)} ms (all of the machine's postgres processes, others' included); ` +
        `vacuuming the window's garbage after it: ${fmt(c.vacuumMsPerMsg, 3)} ms more (window + vacuum ${fmt(c.postgresWithVacuumMsPerMsg, 3)} ms)`,
      met: ok,
      note: ok ? '' : [clean ? '' : `${c.failed} sends failed`, c.serverMsPerMsg > 0.8 ? `server ×${fmt(c.serverMsPerMsg / 0.8, 2)}` : '', c.postgresMsPerMsg != null && c.postgresMsPerMsg > 0.5 ? `PostgreSQL ×${fmt(c.postgresMsPerMsg / 0.5, 2)}` : ''].filter(Boolean).join(', '),
    });
  }
  // Capacity under overload: what gets through durably, and whether the rest is shed cleanly.
  for (const rate of inp.settings.chatRates.filter((r) => r > 1000)) {
    for (const via of ['ws', 'http']) {
      const c = chatRows.find((x) => x.key === `ours-${via}-${rate}`);
      if (!c) continue;
      const proof = integrityOf(c);
      const ok = c.failures.internal === 0 && proof.ok;
      targets.push({
        target: `capacity at ${rate} msg/s offered over ${via === 'ws' ? 'graphql-ws' : 'HTTP'}: no internal errors (overload shed as RATE_LIMITED / SERVICE_UNAVAILABLE with retryAfter), checks pass`,
        measured:
          `durable ${fmt(c.durableRate, 0)} msg/s; failed: internal ${c.failures.internal}, clean sheds ${c.failures.shed}, other ${c.failures.other}; not sent (backlog) ${c.skipped}; ` +
          `ack p99 ${fmt(c.ackP99)} ms; checks ${proof.checked === 0 ? 'not run' : proof.ok ? 'passed' : 'FAILED'}`,
        met: ok,
        note: ok ? '' : [c.failures.internal ? `internal errors: ${c.sampleInternal?.slice(0, 160) ?? ''}` : '', proof.failed.length ? 'invariants broken' : ''].filter(Boolean).join('; '),
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
  const m = inp.machine as { cpus: number; cpuModel: string; node: string; postgres: { version: string; synchronous_commit: string }; pgSettings?: PgSettingsRecord | null };
  L.push(`# Benchmark ${json.date.slice(0, 16).replace('T', ' ')} UTC${inp.settings.quick ? ' (quick)' : ''}`);
  L.push('');
  L.push(
    `${inp.settings.reps} repetition(s), medians; ${m.cpus} cores (${m.cpuModel}), Node ${m.node}, PostgreSQL ${m.postgres.version} (synchronous_commit ${m.postgres.synchronous_commit}); ` +
      `seed scale ${inp.seed.scale}: ${inp.seed.counts.users} users, ${inp.seed.counts.follows} follows, ${inp.seed.counts.openConversations} open conversations, ` +
      `${inp.seed.counts.messages} messages, ${inp.seed.counts.requests} requests (${inp.seed.counts.hotPending} pending to the hot account); ${inp.seed.reused ? 'seed reused' : `seeded in ${inp.seed.seedSeconds} s`}; run ${inp.seconds} s.`,
  );
  L.push('');
  const ps = m.pgSettings;
  if (ps) {
    const e = ps.effective;
    const server = ps.server.length
      ? `${ps.server.map((x) => `${x.name} ${x.applied} (before: ${x.before ?? 'not in postgresql.auto.conf'})`).join(', ')} by ALTER SYSTEM for this run, restored at its end`
      : `server-wide settings not applied: ${ps.serverSkipped ?? '–'}`;
    L.push(
      `PostgreSQL settings (docs/deployment.md): ${server}; per database ${Object.entries(ps.database).map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
        `as a session saw them: checkpoint_timeout ${e.checkpoint_timeout}, max_wal_size ${e.max_wal_size}, wal_compression ${e.wal_compression}, jit ${e.jit}; ` +
        `shared_buffers ${e.shared_buffers} (needs a restart: reported, not changed); fsync ${e.fsync}, synchronous_commit ${e.synchronous_commit}; ` +
        `conversation_members ${ps.conversationMembers?.join(', ') ?? 'with default storage parameters'}.`,
    );
    L.push('');
  }
  // A broken invariant is the first thing a reader must see, whatever the latencies.
  const proven = chatRows.map((c) => ({ c, p: integrityOf(c) })).filter((x) => x.p.checked > 0);
  const broken = proven.filter((x) => x.p.failed.length);
  if (broken.length) {
    L.push(`🔴 **CHAT INVARIANTS BROKEN** in ${broken.reduce((a, x) => a + x.p.failed.length, 0)} run(s) — see "Chat runs: proof and cost".`);
    L.push('');
  } else if (proven.length) {
    L.push(`Chat invariants held in all ${proven.reduce((a, x) => a + x.p.checked, 0)} checked runs (event cursors and message seqs contiguous, every acknowledged clientMessageId stored exactly once).`);
    L.push('');
  }
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
      `| chat ${c.pairs} pairs${c.badge ? ' + inboxBadgeChanged' : ''} | ${c.server} | ${c.via === 'ws' ? 'graphql-ws' : 'HTTP'} | ${c.rate} | ${fmt(c.achieved, 0)}${c.skipped ? ` (${c.skipped} not sent: backlog)` : ''}${c.failed ? ` (${c.failed} failed)` : ''} | ${fmt(c.delivered, 0)} | ${c.lost} | ${fmt(c.p50, 1)} / ${fmt(c.p99, 1)} | ${fmt(c.ackP99, 1)} | ${c.server === 'bare' ? 'n/a (in memory)' : `${c.durable ? 'yes' : 'NO'}, ${c.inEventLog == null ? '–' : c.inEventLog ? 'yes' : 'NO'}`} | ${fmt(c.cpu.server, 0)} / ${fmt(c.cpu.postgres, 0)} / ${fmt(c.cpu.loadgen, 0)} / ${fmt(c.cpu.others, 0)} % |`,
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
  chatProofSection(L, chatRows, inp.settings.drainMs);
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

type ChatRow = {
  key: string;
  label: string;
  server: string;
  badge: boolean;
  via: string;
  rate: number;
  achieved: number | null;
  ackP99: number | null;
  durableRate: number | null;
  failures: { internal: number; shed: number; other: number };
  failureCodes: Record<string, number>;
  serverMsPerMsg: number | null;
  postgresMsPerMsg: number | null;
  postgresWithVacuumMsPerMsg: number | null;
  vacuumMsPerMsg: number | null;
  serverWritesPerMsg: number | null;
  walBytesPerMsg: number | null;
  walFpiPerMsg: number | null;
  badgePerMsg: number | null;
  windows: Array<{ rep: number; w: OpenLoopResult['window'] }>;
  integrity: Array<{ rep: number; i: OpenLoopResult['integrity'] }>;
  members: Array<NonNullable<NonNullable<OpenLoopResult['window']>['members']>>;
};

/** Per chat run: the invariants, what a message cost, and what else happened in its window. */
function chatProofSection(L: string[], rows: ChatRow[], drainMs: number): void {
  if (!rows.some((c) => c.windows.some((x) => x.w))) return;
  const list = (xs: Array<string | number | null | undefined>) => xs.map((x) => (x == null ? '–' : String(x))).join(' · ');
  L.push('');
  L.push('## Chat runs: proof and cost');
  L.push('');
  L.push(
    `Each chat run's window goes from the first send until every acknowledgement and delivery is in (at most the ${drainMs / 1000} s drain). ` +
      'CPU per message is the server process\'s and all postgres processes\' utime + stime over the window divided by messages sent; ' +
      'before each of our windows the bench vacuums the chat\'s tables (what earlier workloads left: autovacuum is off on these machines), and after it again, reporting that vacuum\'s PostgreSQL CPU per message of the window (+ vacuum). WAL and checkpoints are the whole server\'s. ' +
      'Checkpoints, backend buffer writes and GC pauses are listed per repetition (a · b · c), the rest are medians. ' +
        'A requested checkpoint comes from WAL volume or was forced (CHECKPOINT, DROP DATABASE or CREATE DATABASE … FILE_COPY by anyone on the server: a test suite dropping its databases).',
  );
  L.push('');
  L.push('| run | invariants | sent/s | durable msg/s | failed: internal / shed / other | ack p99 (ms) | CPU/msg server / pg + vacuum (ms) | server write calls/msg | WAL/msg (bytes, FPI) | checkpoints, buffers written | backend writes | GC pauses: count, ms (> 10 ms) | badge updates/msg |');
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of rows) {
    const checked = c.integrity.filter((x) => x.i);
    const failed = checked.filter((x) => !x.i!.ok);
    const proof = c.server === 'bare' ? 'n/a' : !checked.length ? '–' : failed.length ? `🔴 **FAILED** (rep ${failed.map((x) => x.rep).join(', ')})` : `✓ ${checked.length}/${checked.length}`;
    const w = c.windows;
    L.push(
      `| ${c.label} ${c.via === 'ws' ? 'graphql-ws' : 'HTTP'} ${c.rate}/s | ${proof} | ${fmt(c.achieved, 0)} | ${fmt(c.durableRate, 0)} | ${c.failures.internal} / ${c.failures.shed} / ${c.failures.other} | ${fmt(c.ackP99, 1)} | ` +
        `${fmt(c.serverMsPerMsg, 3)} / ${fmt(c.postgresMsPerMsg, 3)}${c.vacuumMsPerMsg == null ? '' : ` + ${fmt(c.vacuumMsPerMsg, 3)}`} | ${fmt(c.serverWritesPerMsg, 2)} | ${fmt(c.walBytesPerMsg, 0)}, ${fmt(c.walFpiPerMsg, 2)} | ` +
        `${list(w.map((x) => (x.w?.checkpoints == null ? null : `${x.w.checkpoints}${x.w.checkpointsRequested ? ` (${x.w.checkpointsRequested} requested)` : ''}, ${x.w.checkpointBuffers}`)))} | ${list(w.map((x) => x.w?.backendBuffers))} | ` +
        `${list(w.map((x) => (x.w?.gc ? `${x.w.gc.count}, ${x.w.gc.ms} (${x.w.gc.over10ms})` : null)))} | ${c.badge ? fmt(c.badgePerMsg, 2) : ''} |`,
    );
  }
  // Failures in full, one line each: a red line, not a footnote.
  for (const c of rows) {
    for (const { rep, i } of c.integrity) {
      if (!i || i.ok) continue;
      const parts = [
        i.error ? `the check could not run: ${i.error}` : '',
        i.accounts.bad ? `${i.accounts.bad} of ${i.accounts.checked} accounts' event seqs not contiguous` : '',
        i.accounts.beyondCounter ? `${i.accounts.beyondCounter} events beyond their account's counter` : '',
        i.conversations.bad ? `${i.conversations.bad} of ${i.conversations.checked} conversations' message seqs not contiguous or last_seq ≠ max(seq)` : '',
        i.clientMessageIds.exactlyOnce !== i.clientMessageIds.acked
          ? `clientMessageIds: ${i.clientMessageIds.missing} missing, ${i.clientMessageIds.duplicated} duplicated, ${i.clientMessageIds.otherMessage} stored as another message, of ${i.clientMessageIds.acked} acknowledged`
          : '',
      ].filter(Boolean);
      const samples = [...i.accounts.samples, ...i.conversations.samples, ...i.clientMessageIds.samples].slice(0, 3);
      L.push('');
      L.push(`🔴 **${c.label} ${c.via} ${c.rate}/s, repetition ${rep}: ${parts.join('; ')}.**${samples.length ? ` E.g. ${samples.join('; ')}.` : ''}`);
    }
  }
  const codes = rows.flatMap((c) => Object.entries(c.failureCodes).map(([code, n]) => `${c.label} ${c.via} ${c.rate}/s: ${code} × ${n}`));
  if (codes.length) {
    L.push('');
    L.push(`Failed sends by code: ${codes.join('; ')}.`);
  }
  const members = rows.filter((c) => c.server === 'ours').flatMap((c) => c.members);
  if (members.length) {
    const updates = members.reduce((a, x) => a + x.updates, 0);
    const hot = members.reduce((a, x) => a + x.hotUpdates, 0);
    L.push('');
    L.push(
      `conversation_members over our chat windows: ${updates} row updates, ${updates ? fmt((hot / updates) * 100, 1) : '–'} % of them HOT; ` +
        `dead rows at the end of a window up to ${Math.max(...members.map((x) => x.deadTuples))}; ${members.reduce((a, x) => a + x.autovacuums, 0)} autovacuum(s) inside the windows.`,
    );
  }
}
