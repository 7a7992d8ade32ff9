import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { costPerEvent } from './cost.js';
import { drainBacklog } from './delivery.js';
import { httpFloor, pgFloor, sendFloor } from './floors.js';
import { ingestAndE2e } from './ingest.js';
import { clearBenchDataDir } from './lib/configure.js';
import { benchDatabase } from './lib/database.js';
import { LIMITS_RAISED } from './lib/limits.js';
import { significant } from './lib/stats.js';
import { liveLag } from './live.js';
import { PLANS, type Plan } from './plan.js';
import { peerIngest } from './peers/receiver-load.js';
import { peerGraphile, peerPgboss } from './peers/relay-drain.js';
import { listAtScale } from './scale.js';
import { scaleOut } from './scale-out.js';
import { printTable } from './table.js';

/**
 * `npm run bench` (full, ≤ 15 min, writes bench/results/latest.json), `-- --quick` (≈ 1 min,
 * bench/results/quick.json), `-- --smoke --out <file>` (tiny, for the test suite). Every
 * figure is measured next to its baseline in the same run on the same machine.
 */
const args = process.argv.slice(2);
const mode: Plan['mode'] = args.includes('--smoke') ? 'smoke' : args.includes('--quick') ? 'quick' : 'full';
const plan = PLANS[mode];
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const outIndex = args.indexOf('--out');
const onlyIndex = args.indexOf('--only');
/**
 * `--only live`, `--only e2e` or `--only cost`: that section alone (its own database, the same plan), written
 * to its own file. e2e comes with its ingest figures: its worker starts on their backlog.
 */
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
if (only !== undefined && only !== 'live' && only !== 'e2e' && only !== 'cost') throw new Error(`--only takes: live, e2e, cost (got ${only})`);
const out = outIndex >= 0 ? args[outIndex + 1]! : only ? path.join(resultsDir, `only-${only}.json`) : mode === 'full' ? path.join(resultsDir, 'latest.json') : mode === 'quick' ? path.join(resultsDir, 'quick.json') : path.join(tmpdir(), 'hookyard-bench-smoke.json');

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  // The smoke run (npm test) skips the WAL stock: 1 GiB of segments for a few seconds of load.
  const db = await benchDatabase({}, { walStock: mode !== 'smoke' });
  try {
    const client = new pg.Client({ connectionString: db.adminUrl });
    await client.connect();
    const { rows } = await client.query<{ server_version: string; fsync: string; synchronous_commit: string }>(
      `select current_setting('server_version') as server_version, current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`,
    );
    await client.end();
    const version = rows[0]!;
    log(`mode ${mode}; PostgreSQL ${version.server_version}, fsync=${version.fsync}, synchronous_commit=${version.synchronous_commit}`);
    if (only) {
      // One section alone: its figures in a file of their own, beside the run's mode and time.
      log(only === 'e2e' ? 'ingest and e2e' : only);
      const figures = only === 'live' ? { live: await liveLag(plan, await db.create('live')) }
        : only === 'cost' ? { cost: await costPerEvent(plan, await db.create('cost')) }
        : await ingestAndE2e(plan, await db.create('ingest'));
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, `${JSON.stringify({ mode, only, at: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), ...figures }, null, 2)}\n`);
      log(`${only}: ${JSON.stringify(figures)}; wrote ${out}`);
      return;
    }

    log('http_floor');
    const http = await httpFloor(plan);
    log('send_floor');
    const send = await sendFloor(plan);
    log('pg_floor');
    const pgf = await pgFloor(plan, await db.create('pgfloor'));
    // The peers: what a team would run instead, on the same box, sink and load (bench/peers/).
    log('peer_ingest');
    const peerIngestFigures = await peerIngest(plan, await db.create('peeringest'));
    log('peer_graphile');
    const graphile = await peerGraphile(plan, await db.create('peergraphile'));
    log('peer_pgboss');
    const pgboss = await peerPgboss(plan, await db.create('peerpgboss'));
    log('ingest and e2e');
    const { ingest, e2e } = await ingestAndE2e(plan, await db.create('ingest'));
    log('delivery, fan-out 1');
    const fan1 = await drainBacklog(plan, await db.create('drain1'), 1);
    log('delivery, fan-out 10');
    const fan10 = await drainBacklog(plan, await db.create('drain10'), 10);
    log('live');
    const live = await liveLag(plan, await db.create('live'));
    log('scale');
    const scale = await listAtScale(plan, await db.create('scale'));
    log('cost');
    const cost = await costPerEvent(plan, await db.create('cost'));
    // Scale-out (issue 13, item 6): 1, 2 and 4 workers, 1 and 2 api processes, on one PostgreSQL.
    const scaleOutFigures = await scaleOut(plan, db, log);

    const topRate = String(plan.e2eRates.at(-1));
    const results = {
      mode,
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: version.server_version, fsync: version.fsync, synchronous_commit: version.synchronous_commit },
      seconds: Math.round((Date.now() - started) / 1000),
      http_floor: { rps: http.rps, p50_ms: http.p50_ms, p99_ms: http.p99_ms, connections: plan.connections },
      pg_floor: pgf,
      send_floor: { rps: send.rps, p50_ms: send.p50_ms, p99_ms: send.p99_ms },
      peer_graphile: graphile,
      peer_pgboss: pgboss,
      peer_ingest: peerIngestFigures,
      ingest: { ...ingest, ratio_pg_floor: significant(ingest.rps / pgf.commits_per_s), ratio_http_floor: significant(ingest.rps / http.rps), ratio_peer_ingest: significant(ingest.rps / peerIngestFigures.rps) },
      e2e: { ...e2e, rate: Number(topRate), p50_ms: e2e[topRate]!.p50_ms, p99_ms: e2e[topRate]!.p99_ms },
      delivery: {
        fanout_1: { ...fan1, ratio_send_floor: significant(fan1.per_s / send.rps), ratio_peer_graphile: significant(fan1.per_s / graphile.per_s) },
        fanout_10: { ...fan10, ratio_send_floor: significant(fan10.per_s / send.rps), ratio_peer_graphile: significant(fan10.per_s / graphile.per_s) },
        ratio_send_floor: significant(Math.min(fan1.per_s, fan10.per_s) / send.rps),
        // The one-relay drain against each delivery peer.
        ratio_peer_graphile: significant(fan1.per_s / graphile.per_s),
        ratio_peer_pgboss: significant(fan1.per_s / pgboss.per_s),
        // Memory of the one-relay drain by one worker (issue 13, item 5): heap after a full GC, end over start.
        heap_growth: fan1.heap_growth,
        rss_max_mib: fan1.rss_max_mib,
      },
      live,
      scale,
      scale_out: scaleOutFigures,
      cost,
      limits_raised: LIMITS_RAISED,
    };
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    log(`wrote ${out} in ${results.seconds} s`);
  } finally {
    await db.close();
    await clearBenchDataDir();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
