import { makeWorkerUtils } from 'graphile-worker';
import { PgBoss } from 'pg-boss';
import { BODY } from '../floors.js';
import { RELAY_MAX_CONCURRENCY, sinkStats, waitFor } from '../lib/configure.js';
import { forkServer } from '../lib/processes.js';
import { significant } from '../lib/stats.js';
import { cpuPerUnit, startWaitSample, type WaitFigures } from '../lib/wait-sample.js';
import type { Plan } from '../plan.js';
import { GRAPHILE_TASK, PGBOSS_QUEUE, PGBOSS_WORK, type RelayJob } from './relay-job.js';
import { analyze } from '../lib/database.js';

export interface PeerDrainFigures {
  deliveries: number;
  seconds: number;
  per_s: number;
  /** Deliveries the peer may have in flight: the relays' `maxConcurrency`. */
  concurrency: number;
  /** What its database sessions waited on and the CPU used (relay, PostgreSQL, sink), from the first delivery to the last. */
  wait_sample: WaitFigures;
  /** CPU per delivery (µs) by process, as `delivery.fanout_1.cpu_us_per_delivery` measures Hookyard's. */
  cpu_us_per_delivery: Record<string, number>;
}

/** Jobs per insert statement while the backlog is written (as bench/delivery.ts does). */
const CHUNK = 5000;

/**
 * peer_graphile: the backlog (`plan.backlog` webhooks of 1 KiB) queued as graphile-worker
 * jobs, then drained by bench/peers/graphile-relay.ts to the sink.
 */
export async function peerGraphile(plan: Plan, databaseUrl: string): Promise<PeerDrainFigures> {
  return drainPeer(plan, databaseUrl, 'peers/graphile-relay.js', async (jobs) => {
    const utils = await makeWorkerUtils({ connectionString: databaseUrl });
    try {
      await utils.migrate();
      for (let i = 0; i < jobs.length; i += CHUNK) await utils.addJobs(jobs.slice(i, i + CHUNK).map((payload) => ({ identifier: GRAPHILE_TASK, payload })));
    } finally {
      await utils.release();
    }
  });
}

/** peer_pgboss: the same backlog as pg-boss jobs, drained by bench/peers/pgboss-relay.ts. */
export async function peerPgboss(plan: Plan, databaseUrl: string): Promise<PeerDrainFigures & { batch_size: number; local_concurrency: number }> {
  const figures = await drainPeer(plan, databaseUrl, 'peers/pgboss-relay.js', async (jobs) => {
    const boss = new PgBoss({ connectionString: databaseUrl, max: 2 });
    boss.on('error', () => {});
    await boss.start();
    try {
      await boss.createQueue(PGBOSS_QUEUE);
      for (let i = 0; i < jobs.length; i += CHUNK) await boss.insert(PGBOSS_QUEUE, jobs.slice(i, i + CHUNK).map((data) => ({ data })));
    } finally {
      await boss.stop({ graceful: false });
    }
  });
  return { ...figures, batch_size: PGBOSS_WORK.batchSize, local_concurrency: PGBOSS_WORK.localConcurrency };
}

/**
 * As Hookyard's drain (bench/delivery.ts): the whole backlog written before the relay
 * starts, the relay in a process of its own, and the drain timed by the sink from the first
 * delivery's arrival to the last, so start-up is not delivery time.
 */
async function drainPeer(plan: Plan, databaseUrl: string, script: string, queueBacklog: (jobs: RelayJob[]) => Promise<void>): Promise<PeerDrainFigures> {
  const sink = await forkServer('sink-server.js', { RECORD: '0' });
  try {
    const job: RelayJob = { url: `http://127.0.0.1:${sink.port}/peer`, body: BODY.toString() };
    await queueBacklog(Array.from({ length: plan.backlog }, () => job));
    // As Hookyard's backlog: statistics before the drain (lib/database.ts `analyze`).
    await analyze(databaseUrl);
    const relay = await forkServer(script, { DATABASE_URL: databaseUrl, CONCURRENCY: String(RELAY_MAX_CONCURRENCY) });
    let waits: WaitFigures;
    try {
      const running = async () => {
        if (relay.process.exitCode !== null) throw new Error(`${script} exited with ${relay.process.exitCode}`);
        return (await sinkStats(sink.port)).count;
      };
      // Sampled as Hookyard's drain is (bench/delivery.ts): from the first delivery on.
      await waitFor(async () => (await running()) > 0, 60_000, `${script}'s first delivery`);
      const sample = await startWaitSample(databaseUrl, { relay: [relay.process.pid], sink: [sink.process.pid] });
      await waitFor(async () => (await running()) >= plan.backlog, 15 * 60_000, `${script} to drain the backlog`);
      waits = await sample.stop();
    } finally {
      await relay.stop();
    }
    const { firstAt, lastAt } = await sinkStats(sink.port);
    const seconds = Math.max(lastAt - firstAt, 1) / 1000;
    const perS = Math.round(plan.backlog / seconds);
    return { deliveries: plan.backlog, seconds: significant(seconds), per_s: perS, concurrency: RELAY_MAX_CONCURRENCY, wait_sample: waits, cpu_us_per_delivery: cpuPerUnit(waits.cpu_cores, perS) };
  } finally {
    await sink.stop();
  }
}
