/**
 * The delivery drain alone, for A/B work on the worker (not part of `npm run bench`):
 *   node dist/bench/tools/drain.js [--backlog 20000] [--fanout 1] [--runs 1] [--statements] [--prof DIR]
 * `--statements` logs every statement of the cluster (log_min_duration_statement=0) and prints,
 * for the drain only, statement counts and time per delivery; `--prof` writes CPU profiles of
 * every process it starts (the worker's is the largest) into DIR. Every run prints the CPU time
 * the worker process, the PostgreSQL cluster and the sink spent per delivery from the worker's
 * start to its exit (start-up included): on a shared machine that moves far less than the rate.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { withDatabase } from '../../src/db/database-url.js';
import { drainBacklog } from '../delivery.js';
import { PLANS } from '../plan.js';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '20000' },
    fanout: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    statements: { type: 'boolean', default: false },
    prof: { type: 'string' },
  },
});
const backlog = Number(values.backlog);
const fanouts = values.fanout!.split(',').map(Number);

const stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-drain-pg-'));
const settings: Record<string, string> = { max_connections: '300', shared_buffers: '256MB' };
if (values.statements) Object.assign(settings, { log_min_duration_statement: '0', log_line_prefix: "'%p %a '" });
const embedded = await startEmbeddedPostgres({ stateDir, settings });
const logFile = path.join(embedded.clusterDir, 'postgres.log');
if (values.prof) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${values.prof}`;
try {
  for (let run = 0; run < Number(values.runs); run++) {
    for (const fanout of fanouts) {
      const name = `hookyard_drain_${process.pid}_${run}_${fanout}`;
      const admin = new pg.Client({ connectionString: embedded.adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = withDatabase(embedded.adminUrl, name);
      const logStart = values.statements ? (await stat(logFile)).size : 0;
      const cpu = cpuWatch(Number((await readFile(path.join(embedded.clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]));
      const figures = await drainBacklog({ ...PLANS.quick, backlog }, url, fanout);
      const used = await cpu.stop();
      const perDelivery = (ms: number) => Math.round((ms * 1000) / figures.deliveries);
      console.log(JSON.stringify({ run, fanout, per_s: figures.per_s, seconds: figures.seconds, rss_max_mib: figures.rss_max_mib,
        cpu_us_per_delivery: { worker: perDelivery(used.worker), postgres: perDelivery(used.postgres), sink: perDelivery(used.sink) } }));
      if (values.statements) console.log(statementTable(await readFile(logFile, 'utf8').then((t) => t.slice(logStart)), figures.deliveries));
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  }
} finally {
  await embedded.stop();
  await rm(embedded.clusterDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
}

/** Statements of the worker (application names hookyard, hookyard-boss), grouped by their first words. */
function statementTable(log: string, deliveries: number): string {
  const groups = new Map<string, { count: number; ms: number }>();
  const line = /^\d+ (hookyard\S*) .*duration: ([\d.]+) ms\s+(?:statement|execute [^:]*): (.*)$/;
  // A statement's text continues on lines that start with a tab.
  for (const text of log.replace(/\n\t/g, ' ').split('\n')) {
    const m = line.exec(text);
    if (!m) continue;
    const key = `${m[1]} ${m[3]!.replace(/\s+/g, ' ').trim().slice(0, 90)}`;
    const g = groups.get(key) ?? { count: 0, ms: 0 };
    g.count++;
    g.ms += Number(m[2]);
    groups.set(key, g);
  }
  const rows = [...groups].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, g]) => ({ count: s.count + g.count, ms: s.ms + g.ms }), { count: 0, ms: 0 });
  return [
    `statements: ${total.count} (${(total.count / deliveries).toFixed(3)} per delivery), ${total.ms.toFixed(0)} ms in the server (${((total.ms * 1000) / deliveries).toFixed(1)} µs per delivery)`,
    ...rows.slice(0, 25).map(([k, g]) => `${String(g.count).padStart(7)} ${(g.count / deliveries).toFixed(3).padStart(7)}/d ${g.ms.toFixed(0).padStart(7)} ms  ${k}`),
  ].join('\n');
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
 */
function cpuWatch(postmaster: number): { stop(): Promise<{ worker: number; postgres: number; sink: number }> } {
  const base = new Map<number, number>();
  const last = new Map<number, { kind: 'worker' | 'postgres' | 'sink'; ms: number }>();
  let worker: number | undefined;
  let done = false;
  const sample = async () => {
    const mine = await children(process.pid);
    const kinds = new Map<number, 'worker' | 'postgres' | 'sink'>();
    for (const pid of mine) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes('sink-server')) kinds.set(pid, 'sink');
      else if (cmdline.includes('src/main.js')) {
        const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
        if (environ.includes('HOOKYARD_ROLE=worker')) kinds.set(pid, 'worker');
      }
    }
    for (const pid of [postmaster, ...(await children(postmaster))]) kinds.set(pid, 'postgres');
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
