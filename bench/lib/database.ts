import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { withDatabase } from '../../src/db/database-url.js';

export interface BenchDatabase {
  adminUrl: string;
  /**
   * A fresh, empty database for one benchmark section, on a quiet server: the databases of the
   * sections before are dropped (once their connections are gone) and a checkpoint writes out
   * their dirty pages. Left in
   * place, a section's dead rows brought autovacuum into the next one: the headline ingest, run
   * right after the pg-boss relay's 50,000 jobs, took 1,681 req/s in a full run and 2,888 alone.
   */
  create(name: string): Promise<string>;
  close(): Promise<void>;
}


/**
 * The benchmark's PostgreSQL: `DATABASE_URL` if set, else an embedded cluster of its own.
 * Durable either way: fsync and synchronous_commit stay on, the same for every figure.
 * `extraSettings` (tools only: pg_stat_statements) apply to the embedded cluster.
 */
export async function benchDatabase(extraSettings: Record<string, string> = {}, options: { walStock: boolean } = { walStock: true }): Promise<BenchDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let stateDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-bench-pg-'));
    embedded = await startEmbeddedPostgres({ stateDir, settings: { max_connections: '300', shared_buffers: '256MB', min_wal_size: '1GB', ...extraSettings } });
    adminUrl = embedded.adminUrl;
    if (options.walStock) await stockWalSegments(adminUrl);
  }
  const created: string[] = [];
  const admin = async (sql: string) => {
    await withClient(adminUrl!, (client) => client.query(sql));
  };
  /** Whether `database` has no connection left, waiting up to 5 s for them to close. */
  const idle = (database: string) => withClient(adminUrl!, async (client) => {
    for (const until = Date.now() + 5000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [database]);
      if (rows[0]!.n === 0) return true;
    }
    return false;
  });
  return {
    adminUrl,
    async create(name) {
      const database = `hookyard_bench_${name}_${process.pid}`;
      for (const earlier of created.splice(0)) {
        // Dropped once its connections are gone (a pool just ended may still be closing): never
        // by force, which would kill a connection some process still holds. One still in use
        // after a few seconds is left for `close`.
        if (await idle(earlier)) await admin(`drop database if exists ${earlier}`).catch(() => created.push(earlier));
        else created.push(earlier);
      }
      await admin('checkpoint');
      await admin(`drop database if exists ${database} with (force)`);
      await admin(`create database ${database}`);
      created.push(database);
      return withDatabase(adminUrl!, database);
    },
    async close() {
      for (const database of created) await admin(`drop database if exists ${database} with (force)`).catch(() => {});
      await embedded?.stop();
      if (embedded) await rm(embedded.clusterDir, { recursive: true, force: true });
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Planner statistics for every table of `databaseUrl`, taken before a timed phase that starts
 * on data written moments before (a backlog): a server in service has them, as autovacuum
 * analyzes a table once a tenth of it changed, but only at its next pass (a minute apart),
 * after a bench's set-up of a few seconds. Without them Hookyard's fetch, claim and outcome
 * statements took 5–9 × longer per call at 500/s (pg-boss's fetch read every job of the queue
 * to mark a batch active). Every contender's backlog gets the same.
 */
export async function analyze(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, (client) => client.query('analyze'));
}

/**
 * WAL segments ready for reuse, as a server in service has them: PostgreSQL recycles the segments
 * a checkpoint leaves behind (up to `min_wal_size`, 1 GiB here; `max_wal_size` stays at its
 * default, so checkpoints come as often as on a stock server), but a new cluster has none, so
 * every 16 MiB of WAL its first minutes write began with a new segment zero-filled and synced
 * inside some commit (`IO:WalInitWrite`: 40–70 ms stalls in a fresh cluster's half-load phase).
 * Switching through 64 segments and checkpointing leaves them recycled for every section alike.
 */
async function stockWalSegments(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    // A switch with nothing written since the last one does nothing: each first commits an xid.
    for (let i = 0; i < 64; i++) await client.query('select pg_current_xact_id(); select pg_switch_wal()');
    await client.query('checkpoint');
  });
}

/** `use` on a connection of its own to `databaseUrl`, closed after it whatever happens. */
export async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
