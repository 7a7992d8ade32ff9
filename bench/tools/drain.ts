/**
 * The delivery drain alone, for A/B work on the worker (not part of `npm run bench`):
 *   node dist/bench/tools/drain.js [--backlog 20000] [--fanout 1] [--runs 1] [--statements] [--prof DIR] [--drop-change-log] [--setup-sql SQL] [--memory] [--worker-node-flags=FLAGS]
 * `--statements` loads pg_stat_statements (planning tracked) and prints, per delivery, the calls,
 * planning and execution time and WAL bytes of the statements of the drain; `--prof` writes CPU profiles of
 * every process it starts (the worker's is the largest) into DIR. Every run prints the CPU time
 * the worker process, the PostgreSQL cluster and the sink spent per delivery from the worker's
 * start to its exit (start-up included): on a shared machine that moves far less than the rate.
 * `--setup-sql 'SQL'` runs SQL on the scratch database once the migrations are done (an A/B of a schema
 * change before writing its migration). `--drop-change-log` drops the live change log's triggers from the drain's scratch database as
 * soon as the migrations create them: what they cost, not a way to run (the live feeds need them).
 * `--memory` reads the worker's memory every 200 ms (process.memoryUsage and V8's heap spaces,
 * through its inspector) and prints the largest of each: what its RSS is made of.
 * `--worker-node-flags='--max-semi-space-size=16'` puts Node/V8 flags on the worker's command line alone (A/B of flags).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { withDatabase } from '../../src/db/database-url.js';
import { drainBacklog } from '../delivery.js';
import { clearBenchDataDir } from '../lib/configure.js';
import { PLANS } from '../plan.js';
import { migrations } from '../../src/db/migrations/index.js';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '20000' },
    fanout: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    statements: { type: 'boolean', default: false },
    prof: { type: 'string' },
    explain: { type: 'boolean', default: false },
    'drop-change-log': { type: 'boolean', default: false },
    'setup-sql': { type: 'string' },
    memory: { type: 'boolean', default: false },
    'worker-node-flags': { type: 'string' },
  },
});
const backlog = Number(values.backlog);
const fanouts = values.fanout!.split(',').map(Number);

const stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-drain-pg-'));
const settings: Record<string, string> = { max_connections: '300', shared_buffers: '256MB' };
if (values.statements) Object.assign(settings, { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on', 'pg_stat_statements.max': '1000' });
// Diagnosis only: plans of statements over 3 ms go to the cluster's log, which is printed at the end.
if (values.explain) Object.assign(settings, { shared_preload_libraries: values.statements ? 'pg_stat_statements,auto_explain' : 'auto_explain', 'auto_explain.log_min_duration': '3', 'auto_explain.log_analyze': 'on', 'auto_explain.log_nested_statements': 'on' });
const embedded = await startEmbeddedPostgres({ stateDir, settings });
if (values.prof) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${values.prof}`;
try {
  for (let run = 0; run < Number(values.runs); run++) {
    for (const fanout of fanouts) {
      const name = `hookyard_drain_${process.pid}_${run}_${fanout}`;
      const admin = new pg.Client({ connectionString: embedded.adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = withDatabase(embedded.adminUrl, name);
      if (values.statements) {
        const db = new pg.Client({ connectionString: url });
        await db.connect();
        await db.query('create extension if not exists pg_stat_statements');
        await db.end();
      }
      const setupSql = [
        ...(values['drop-change-log'] ? ['drop trigger delivery_change_on_insert on delivery; drop trigger delivery_change_on_update on delivery; drop trigger event_arrival_on_insert on event'] : []),
        ...(values['setup-sql'] ? [values['setup-sql']] : []),
      ];
      const setup = setupSql.length > 0 ? onceMigrated(url, setupSql.join('; ')) : undefined;
      const cpu = cpuWatch(Number((await readFile(path.join(embedded.clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]));
      const figures = await drainBacklog({ ...PLANS.quick, backlog }, url, fanout, 1, { ...(values.memory ? { memoryEveryMs: 200 } : {}), workerNodeFlags: values['worker-node-flags']?.split(' ').filter(Boolean) });
      const used = await cpu.stop();
      if (setup && !(await setup.stop())) throw new Error('the set-up SQL never ran (the migrations did not finish)');
      const perDelivery = (ms: number) => Math.round((ms * 1000) / figures.deliveries);
      console.log(JSON.stringify({ run, fanout, per_s: figures.per_s, seconds: figures.seconds, rss_start_mib: figures.rss_start_mib, rss_max_mib: figures.rss_max_mib,
        heap_start_mib: figures.heap_start_mib, heap_end_mib: figures.heap_end_mib, heap_growth: figures.heap_growth,
        ...(figures.memory_max_mib ? { memory_max_mib: figures.memory_max_mib } : {}),
        cpu_us_per_delivery: { worker: perDelivery(used.worker), postgres: perDelivery(used.postgres), sink: perDelivery(used.sink) } }));
      if (values.statements) console.log(await statementTable(url, figures.deliveries));
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  }
  if (values.explain) console.log((await readFile(path.join(embedded.clusterDir, 'postgres.log'), 'utf8')));
} finally {
  await embedded.stop();
  await rm(embedded.clusterDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
  // The data dir the worker was lent (bench/lib/configure.ts), as `npm run bench` clears it.
  await clearBenchDataDir();
}

/** The statements the worker ran (pg_stat_statements of the drain's database, the backlog's own set-up left out), per delivery. */
async function statementTable(url: string, deliveries: number): Promise<string> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const { rows } = await db.query<{ query: string; calls: string; plan_ms: number; exec_ms: number; wal_bytes: string; rows: string }>(
    `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls, total_plan_time as plan_ms, total_exec_time as exec_ms, wal_bytes, rows
       from pg_stat_statements s join pg_database d on d.oid = s.dbid
      where d.datname = current_database() and query not like '%generate_series%' and query not like '%pg_stat_statements%'
      order by total_plan_time + total_exec_time desc`,
  );
  await db.end();
  const per = (n: number) => n / deliveries;
  const total = rows.reduce((t, r) => ({ calls: t.calls + Number(r.calls), plan: t.plan + r.plan_ms, exec: t.exec + r.exec_ms, wal: t.wal + Number(r.wal_bytes) }), { calls: 0, plan: 0, exec: 0, wal: 0 });
  const line = (calls: number, plan: number, exec: number, wal: number, text: string) =>
    `${per(calls).toFixed(3).padStart(7)} ${(per(plan) * 1000).toFixed(1).padStart(7)} ${(per(exec) * 1000).toFixed(1).padStart(7)} ${per(wal).toFixed(0).padStart(6)}  ${text}`;
  return [
    '  calls plan µs exec µs  WAL B  (per delivery)',
    line(total.calls, total.plan, total.exec, total.wal, 'all'),
    ...rows.slice(0, 20).map((r) => line(Number(r.calls), r.plan_ms, r.exec_ms, Number(r.wal_bytes), r.query.slice(0, 100))),
  ].join('\n');
}

/** Whether the last migration is recorded (its table exists once the first one ran). */
async function migrated(db: pg.Client): Promise<boolean> {
  if ((await db.query(`select 1 from pg_tables where tablename = 'hookyard_migrations'`)).rows.length === 0) return false;
  return (await db.query('select 1 from hookyard_migrations where name = $1', [migrations.at(-1)!.name])).rows.length > 0;
}

/** Runs `sql` on the scratch database once the last migration is recorded (before the backlog); `stop()` says whether it ran. */
function onceMigrated(url: string, sql: string): { stop(): Promise<boolean> } {
  let done = false;
  let ran = false;
  const loop = (async () => {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      while (!done && !ran) {
        if (await migrated(db)) {
          await db.query(sql);
          ran = true;
        } else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await db.end();
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      return ran;
    },
  };
}

/** CPU milliseconds of a process, from /proc (utime + stime, in clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function children(ppid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]) === ppid) pids.push(Number(name));
  }
  return pids;
}

/**
 * Samples the CPU of this tool's children (the sink, the worker) and of the cluster's processes
 * every 100 ms; counts from the moment a worker (HOOKYARD_ROLE=worker) appears until it exits.
 * Which processes those are is looked up once a second, each classified once: a scan of every
 * /proc entry at each sample cost this tool 40 % of a core, taken from the drain it measures.
 */
function cpuWatch(postmaster: number): { stop(): Promise<{ worker: number; postgres: number; sink: number }> } {
  const base = new Map<number, number>();
  const last = new Map<number, { kind: 'worker' | 'postgres' | 'sink'; ms: number }>();
  const kinds = new Map<number, 'worker' | 'postgres' | 'sink'>();
  const classified = new Set<number>();
  let scannedAt = 0;
  let worker: number | undefined;
  let done = false;
  const discover = async () => {
    for (const pid of await children(process.pid)) {
      if (classified.has(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes('sink-server')) kinds.set(pid, 'sink');
      else if (cmdline.includes('src/main.js')) {
        const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
        if (environ.includes('HOOKYARD_ROLE=worker')) kinds.set(pid, 'worker');
      } else continue; // Between fork and exec, its command line is still this tool's: looked at again.
      classified.add(pid);
    }
    for (const pid of [postmaster, ...(await children(postmaster))]) kinds.set(pid, 'postgres');
  };
  const sample = async () => {
    if (Date.now() - scannedAt >= 1000) {
      scannedAt = Date.now();
      await discover();
    }
    const started = worker === undefined && [...kinds.values()].includes('worker');
    for (const [pid, kind] of kinds) {
      const ms = await cpuMs(pid);
      if (ms === undefined) continue;
      if (kind === 'worker') worker = pid;
      // Before the worker starts, every process's CPU is its baseline; after, a new process starts from zero.
      if (worker === undefined || started) base.set(pid, ms);
      else if (!base.has(pid)) base.set(pid, 0);
      last.set(pid, { kind, ms });
    }
  };
  const loop = (async () => {
    while (!done) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      const used = { worker: 0, postgres: 0, sink: 0 };
      for (const [pid, { kind, ms }] of last) used[kind] += ms - (base.get(pid) ?? ms);
      return used;
    },
  };
}
