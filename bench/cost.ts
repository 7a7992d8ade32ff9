import { BODY } from './floors.js';
import { withClient } from './lib/database.js';
import { createRelay, createSource, GITHUB_SECRET, githubRequest, hookyardEnv, subscribeRelay, waitFor } from './lib/configure.js';
import { openLoop } from './lib/load.js';
import { forkServer, startHookyard, type Child } from './lib/processes.js';
import { significant } from './lib/stats.js';
import { cpuPerUnit, startWaitSample } from './lib/wait-sample.js';
import type { Plan } from './plan.js';

export interface CostFigures {
  /** Events taken and delivered once each (fan-out 1, 1 KiB GitHub webhooks), offered at `rate` per second. */
  events: number;
  rate: number;
  /** WAL PostgreSQL wrote per event, from ingest to the recorded attempt (the cluster's WAL position moved by the run). */
  wal_bytes_per_event: number;
  /**
   * WAL flushes to disk per event (`pg_stat_wal.wal_sync`, the cluster's): what a disk's write
   * operations pay; group commit makes it less than one per request. 0 with fsync off.
   */
  wal_syncs_per_event: number;
  /** Rows inserted, updated and deleted per event, in every table (Hookyard's and pg-boss's). */
  rows_written_per_event: number;
  /** What an event leaves in Hookyard's tables once delivered (event, delivery, attempt, their indexes), as written, before vacuum. */
  storage_bytes_per_event: number;
  /** What the pg-boss job table grew by per event: finished jobs are deleted, their rows stay until vacuum reclaims them. */
  job_bytes_per_event: number;
  /**
   * CPU per event (µs) from the first request to the last recorded delivery: `hookyard` (the api
   * and the worker), `postgres` (the cluster), `total`. A core's worth of events per second is
   * 1,000,000 / total.
   */
  cpu_us_per_event: Record<string, number>;
}

interface Counters {
  lsn: string;
  syncs: number;
  rows: number;
  hookyardBytes: number;
  jobBytes: number;
}

/**
 * cost: what an event costs the database, for the README's "What it costs to run". An api and
 * a worker process take `rate` events per second for `costMs` and deliver them to the sink;
 * the database's counters are read before they start and after they have stopped (a backend
 * reports its statistics when it exits, so nothing is left unreported), on a database of its own.
 */
export async function costPerEvent(plan: Plan, databaseUrl: string): Promise<CostFigures> {
  const sink = await forkServer('sink-server.js', { RECORD: '0' });
  const started: Child[] = [];
  try {
    // Set up, then stopped: the set-up's writes are reported before the first reading.
    const setup = await startHookyard(hookyardEnv(databaseUrl, 'api'));
    const sourceId = await createSource(setup.url, { name: 'cost', slug: 'cost', preset: 'GITHUB', secret: GITHUB_SECRET });
    const relayId = await createRelay(setup.url, `http://127.0.0.1:${sink.port}/hooks`);
    await subscribeRelay(setup.url, relayId, ['push'], [sourceId]);
    await setup.stop();
    await untilNoSessions(databaseUrl);
    const before = await readCounters(databaseUrl);

    const api = await startHookyard(hookyardEnv(databaseUrl, 'api'));
    started.push(api);
    started.push(await startHookyard(hookyardEnv(databaseUrl, 'worker')));
    const sample = await startWaitSample(databaseUrl, { hookyard: started.map((child) => child.process.pid) });
    const sampleStart = performance.now();
    const load = await openLoop(api.url, {
      rate: plan.costRate,
      durationMs: plan.costMs,
      connections: plan.connections,
      request: (n) => githubRequest('cost', BODY, `c-${n}-${process.pid}`),
    });
    if (load.errors > 0) throw new Error(`cost: ${load.errors} of ${load.requests} requests were not accepted`);
    await waitFor(async () => (await succeeded(databaseUrl)) >= load.ok, 120_000, 'every cost delivery to be recorded');
    const cpu = (await sample.stop()).cpu_cores;
    const perSecond = load.ok / ((performance.now() - sampleStart) / 1000);
    await Promise.all(started.splice(0).map((child) => child.stop()));
    await untilNoSessions(databaseUrl);
    const after = await readCounters(databaseUrl, before.lsn);

    const per = (value: number) => significant(value / load.ok);
    return {
      events: load.ok,
      rate: plan.costRate,
      wal_bytes_per_event: per(Number(after.lsn)),
      wal_syncs_per_event: per(after.syncs - before.syncs),
      rows_written_per_event: per(after.rows - before.rows),
      storage_bytes_per_event: per(after.hookyardBytes - before.hookyardBytes),
      job_bytes_per_event: per(after.jobBytes - before.jobBytes),
      cpu_us_per_event: cpuPerUnit({ hookyard: cpu.hookyard ?? 0, postgres: cpu.postgres ?? 0 }, perSecond),
    };
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    await sink.stop();
  }
}

const succeeded = (databaseUrl: string) =>
  withClient(databaseUrl, async (client) => Number((await client.query<{ n: string }>(`select count(*) as n from delivery where status = 'SUCCEEDED'`)).rows[0]!.n));

/** A stopped process's sessions end a moment after it exits; their statistics are reported as they do. */
async function untilNoSessions(databaseUrl: string): Promise<void> {
  await waitFor(
    () => withClient(databaseUrl, async (client) => Number((await client.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    )).rows[0]!.n) === 0),
    30_000,
    'the sessions of the stopped processes to end',
  );
}

/**
 * The counters, read in one snapshot of the statistics. With `since`, `lsn` is the WAL written
 * since that position (bytes, as text); without, the current position.
 */
function readCounters(databaseUrl: string, since?: string): Promise<Counters> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ lsn: string; syncs: string; rows: string; hookyard: string; jobs: string }>(
      `select ${since ? `pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text` : 'pg_current_wal_lsn()::text'} as lsn,
              (select wal_sync from pg_stat_wal) as syncs, d.tup_inserted + d.tup_updated + d.tup_deleted as rows,
              (select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind = 'r' and n.nspname = 'public') as hookyard,
              (select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind in ('r', 'p') and n.nspname = 'pgboss') as jobs
         from pg_stat_database d where d.datname = current_database()`,
      since ? [since] : [],
    );
    const row = rows[0]!;
    return { lsn: row.lsn, syncs: Number(row.syncs), rows: Number(row.rows), hookyardBytes: Number(row.hookyard), jobBytes: Number(row.jobs) };
  });
}
