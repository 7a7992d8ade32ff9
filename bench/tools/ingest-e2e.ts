import { readdirSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { BODY } from '../floors.js';
import { clearBenchDataDir, createRelay, createSource, GITHUB_SECRET, githubRequest, hookyardEnv, sinkStats, subscribeRelay, waitFor } from '../lib/configure.js';
import { benchDatabase } from '../lib/database.js';
import { closedLoop, openLoop } from '../lib/load.js';
import { forkServer, startHookyard } from '../lib/processes.js';
import { percentile, summarize } from '../lib/stats.js';
import { liveLag } from '../live.js';
import { PLANS } from '../plan.js';

/**
 * A working tool for issue 13's ingest and latency targets, from the built tree
 * (`npm run build && node dist/bench/tools/ingest-e2e.js [peer] [ingest] [e2e] [live]`):
 * only the sections asked for, Hookyard's api and worker roles in processes of their own.
 *
 * - peer: a bare receiver (verify + one INSERT, bench/tools/peer-ingest-server.ts), closed loop.
 * - ingest: the api role alone (no worker), closed loop then half load open loop.
 * - e2e: api + worker, an open loop at RATE/s; the path broken down by the timestamps the
 *   database keeps (ingest transaction, pg-boss fetch, claim: the start of the statement or
 *   transaction that fetched) and the sink's arrival; the worker's statements per delivery.
 * - live: bench/live.ts with the quick plan.
 *
 * Env: LOAD_MS (5000), E2E_MS (5000), RATE (500), CONNECTIONS (32), PROF_DIR (CPU profile
 * of the api process), WORKER_PROF_DIR, PEER_PROF_DIR, STATEMENTS=1 (pg_stat_statements per
 * request of the api role's closed loop: calls, planning, execution, WAL), HOOKYARD_* passed on
 * to both roles.
 */
const args = new Set(process.argv.slice(2));
const all = args.size === 0;
const loadMs = Number(process.env.LOAD_MS ?? 5000);
const e2eMs = Number(process.env.E2E_MS ?? 5000);
const rate = Number(process.env.RATE ?? 500);
const connections = Number(process.env.CONNECTIONS ?? 32);
const log = (message: string) => process.stderr.write(`[tool ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
const out: Record<string, unknown> = {};

/** CPU seconds (user + system) of a process, or of the PostgreSQL backends serving a database. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
function backendsCpu(database: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(` ${database} `)) total += cpuSeconds(Number(entry));
    } catch {
      // gone
    }
  }
  return total;
}
/** CPU ms per accepted request spent by `pid` and by the database's backends over `run`. */
async function costOf<T extends { ok: number }>(pid: number, database: string, run: () => Promise<T>): Promise<T & { cpu_ms_per_req: { server: number; postgres: number } }> {
  const [p0, d0] = [cpuSeconds(pid), backendsCpu(database)];
  const result = await run();
  const [p1, d1] = [cpuSeconds(pid), backendsCpu(database)];
  const per = (s: number) => Math.round((s * 1000 * 1000) / Math.max(1, result.ok)) / 1000;
  return { ...result, cpu_ms_per_req: { server: per(p1 - p0), postgres: per(d1 - d0) } };
}
const dbName = (url: string) => new URL(url).pathname.slice(1);

const COUNTER = new URL('./count-queries.js', import.meta.url).pathname;
const countFile = (role: string) => `/tmp/hookyard-queries-${role}-${process.pid}.json`;
/** Options for a role's process: a CPU profile, and the statement counter (dumped on SIGUSR2). */
const prof = (dir: string | undefined, role: string): Record<string, string> => ({
  NODE_OPTIONS: [`--import=${COUNTER}`, ...(dir ? [`--cpu-prof --cpu-prof-dir=${dir}`] : [])].join(' '),
  QUERY_COUNT_FILE: countFile(role),
});
/** The statements a role's process sent since it started. */
async function counted(pid: number, role: string): Promise<Record<string, number>> {
  process.kill(pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 300));
  return JSON.parse(readFileSync(countFile(role), 'utf8')) as Record<string, number>;
}
const delta = (before: Record<string, number>, after: Record<string, number>, per: number) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) / per) * 1000) / 1000] as const).filter(([, v]) => v > 0));
let seq = 0;
const request = () => githubRequest('bench', BODY, `i-${seq++}`);

const withStatements = process.env.STATEMENTS === '1';
const db = await benchDatabase(withStatements ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on', 'pg_stat_statements.max': '1000' } : {});

/** pg_stat_statements of `url`'s database since the last reset, per accepted request. */
async function statementTable(url: string, requests: number): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ query: string; calls: string; plan_ms: number; exec_ms: number; wal_bytes: string }>(
    `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls, total_plan_time as plan_ms, total_exec_time as exec_ms, wal_bytes
       from pg_stat_statements s join pg_database d on d.oid = s.dbid
      where d.datname = current_database() and query not like '%pg_stat_statements%'
      order by total_plan_time + total_exec_time desc`,
  );
  await client.end();
  const per = (n: number) => n / requests;
  const line = (calls: number, plan: number, exec: number, wal: number, text: string) =>
    `${per(calls).toFixed(3).padStart(7)} ${(per(plan) * 1000).toFixed(1).padStart(7)} ${(per(exec) * 1000).toFixed(1).padStart(7)} ${per(wal).toFixed(0).padStart(6)}  ${text}`;
  const total = rows.reduce((t, r) => ({ calls: t.calls + Number(r.calls), plan: t.plan + r.plan_ms, exec: t.exec + r.exec_ms, wal: t.wal + Number(r.wal_bytes) }), { calls: 0, plan: 0, exec: 0, wal: 0 });
  return ['  calls plan µs exec µs  WAL B  (per request)', line(total.calls, total.plan, total.exec, total.wal, 'all'),
    ...rows.slice(0, 15).map((r) => line(Number(r.calls), r.plan_ms, r.exec_ms, Number(r.wal_bytes), r.query.slice(0, 110)))].join('\n');
}
async function resetStatements(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('create extension if not exists pg_stat_statements');
  await client.query('select pg_stat_statements_reset()');
  await client.end();
}
try {
  if (all || args.has('peer')) {
    const url = await db.create('peer');
    const peerProf: Record<string, string> = process.env.PEER_PROF_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.PEER_PROF_DIR}` } : {};
    const peer = await forkServer('tools/peer-ingest-server.js', { DATABASE_URL: url, ...peerProf });
    try {
      if (withStatements) await resetStatements(url);
      const r = await costOf(peer.process.pid!, dbName(url), () => closedLoop(`http://127.0.0.1:${peer.port}`, { connections, durationMs: loadMs, request }));
      out.peer = r;
      log(`peer ${JSON.stringify(r)}`);
      if (withStatements) log(`peer statements\n${await statementTable(url, r.ok)}`);
    } finally {
      await peer.stop();
    }
  }
  if (all || args.has('ingest') || args.has('e2e')) {
    const url = await db.create('ingest');
    const sink = await forkServer('sink-server.js');
    const api = await startHookyard({ ...hookyardEnv(url, 'api'), ...prof(process.env.PROF_DIR, 'api') });
    let worker: Awaited<ReturnType<typeof startHookyard>> | undefined;
    try {
      const sourceId = await createSource(api.url, { name: 'bench', slug: 'bench', preset: 'GITHUB', secret: GITHUB_SECRET, keepHeaders: ['x-bench-seq'] });
      const relayId = await createRelay(api.url, `http://127.0.0.1:${sink.port}/hooks`);
      await subscribeRelay(api.url, relayId, ['push'], [sourceId]);
      let accepted = 0;
      if (all || args.has('ingest')) {
        const q0 = await counted(api.process.pid!, 'api');
        if (withStatements) await resetStatements(url);
        const max = await costOf(api.process.pid!, dbName(url), () => closedLoop(api.url, { connections, durationMs: loadMs, request }));
        log(`ingest ${JSON.stringify(max)}`);
        if (withStatements) log(`ingest statements\n${await statementTable(url, max.ok)}`);
        const statements = delta(q0, await counted(api.process.pid!, 'api'), max.ok);
        log(`statements per accepted request ${JSON.stringify(statements, null, 1)}`);
        const perRequest = Math.round(Object.values(statements).reduce((a, b) => a + b, 0) * 100) / 100;
        const half = await openLoop(api.url, { rate: Math.round(max.rps / 2), durationMs: loadMs, connections, request });
        log(`half load ${Math.round(max.rps / 2)}/s ${JSON.stringify(half)}`);
        out.ingest = { ...max, statements_per_req: perRequest, half_rate: Math.round(max.rps / 2), half_p50_ms: half.p50_ms, half_p99_ms: half.p99_ms, half_errors: half.errors };
        accepted = max.ok + half.ok;
      }
      if (all || args.has('e2e')) {
        worker = await startHookyard({ ...hookyardEnv(url, 'worker'), ...prof(process.env.WORKER_PROF_DIR, 'worker') });
        await waitFor(async () => (await sinkStats(sink.port)).count >= accepted, 300_000, 'the backlog to drain');
        await fetch(`http://127.0.0.1:${sink.port}/__reset`, { method: 'POST' });
        const w0 = await counted(worker.process.pid!, 'worker');
        const sent = new Map<string, number>();
        const answered = new Map<string, number>();
        const result = await openLoop(api.url, {
          rate, durationMs: e2eMs, connections,
          request: (n) => githubRequest('bench', BODY, `e-${n}`),
          onSent: (n, at) => sent.set(`e-${n}`, at),
          onAnswer: (n) => answered.set(`e-${n}`, Date.now()),
        });
        await waitFor(async () => (await sinkStats(sink.port)).count >= result.ok, 60_000, 'the e2e deliveries').catch(() => {});
        const { arrivals } = await sinkStats(sink.port);
        log(`worker statements per delivery ${JSON.stringify(delta(w0, await counted(worker.process.pid!, 'worker'), Math.max(1, result.ok)))}`);
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const { rows } = await client.query<{ key: string; received: number; fetched: number; claimed: number }>(`
          select e.idempotency_key as key, extract(epoch from e.received_at) * 1000 as received,
                 extract(epoch from j.started_on) * 1000 as fetched, extract(epoch from d.claimed_at) * 1000 as claimed
          from event e join delivery d on d.event_id = e.id join pgboss.job j on j.data->>'deliveryId' = d.id::text
          where e.idempotency_key like 'e-%'`);
        await client.end();
        const steps: Record<string, number[]> = { 'send→tx start': [], 'tx start→200': [], '200→fetch': [], 'fetch→claim': [], 'claim→sink': [], total: [] };
        for (const row of rows) {
          const t0 = sent.get(row.key);
          const t200 = answered.get(row.key);
          const sink = arrivals[row.key];
          if (t0 === undefined || t200 === undefined || sink === undefined) continue;
          steps['send→tx start']!.push(Number(row.received) - t0);
          steps['tx start→200']!.push(t200 - Number(row.received));
          steps['200→fetch']!.push(Number(row.fetched) - t200);
          steps['fetch→claim']!.push(Number(row.claimed) - Number(row.fetched));
          steps['claim→sink']!.push(sink - Number(row.claimed));
          steps.total!.push(sink - t0);
        }
        const breakdown = Object.fromEntries(Object.entries(steps).map(([k, v]) => {
          const sorted = [...v].sort((a, b) => a - b);
          return [k, { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) }];
        }));
        const latencies = [...sent].flatMap(([key, at]) => (arrivals[key] ? [arrivals[key]! - at] : []));
        out.e2e = { rate, ...summarize(latencies), lost: sent.size - latencies.length, ingest_p50: result.p50_ms, ingest_p99: result.p99_ms, breakdown };
        log(`e2e ${JSON.stringify(out.e2e, null, 1)}`);
      }
    } finally {
      await worker?.stop();
      await api.stop();
      await sink.stop();
    }
  }
  if (args.has('live')) {
    out.live = await liveLag(PLANS.quick, await db.create('live'));
    log(`live ${JSON.stringify(out.live)}`);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await db.close();
  // What the roles were lent and left behind: their data dir (bench/lib/configure.ts) and query counts.
  await clearBenchDataDir();
  for (const role of ['api', 'worker']) rmSync(countFile(role), { force: true });
}
process.exit(0);
