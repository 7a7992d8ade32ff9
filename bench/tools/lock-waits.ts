/**
 * Which statements wait on locks while several workers drain one relay's backlog (diagnosis
 * for the scale-out figure; not part of `npm run bench`):
 *   node dist/bench/tools/lock-waits.js [--backlog 20000] [--workers 2]
 * Samples pg_stat_activity every 10 ms during the drain and prints, per statement (its first
 * 120 characters) and wait event, how many samples found a session waiting on a lock there,
 * with the statement it waited for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { withDatabase } from '../../src/db/database-url.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { drainBacklog } from '../delivery.js';
import { PLANS } from '../plan.js';

const { values } = parseArgs({ options: { backlog: { type: 'string', default: '20000' }, workers: { type: 'string', default: '2' } } });
const stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-locks-pg-'));
const embedded = await startEmbeddedPostgres({ stateDir, settings: { max_connections: '300' } });
try {
  const name = `hookyard_locks_${process.pid}`;
  const admin = new pg.Client({ connectionString: embedded.adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const counts = new Map<string, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows } = await admin.query<{ waiting: string; event: string; blocker: string | null }>(
        `select left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120) as waiting, a.wait_event_type || ':' || a.wait_event as event,
                (select left(regexp_replace(b.query, '\\s+', ' ', 'g'), 120) from pg_stat_activity b where b.pid = any(pg_blocking_pids(a.pid)) limit 1) as blocker
         from pg_stat_activity a where a.datname = $1 and a.wait_event_type = 'Lock'`, [name]);
      for (const row of rows) {
        const key = `${row.event} | ${row.waiting}\n      blocked by: ${row.blocker ?? '?'}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const figures = await drainBacklog({ ...PLANS.quick, backlog: Number(values.backlog) }, withDatabase(embedded.adminUrl, name), 1, Number(values.workers));
  sampling = false;
  await sampler;
  console.log(JSON.stringify({ per_s: figures.per_s, workers: Number(values.workers) }));
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${String(count).padStart(6)}  ${key}`);
  await admin.end();
} finally {
  await embedded.stop();
  await rm(embedded.clusterDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
}
