import { drainBacklog } from './delivery.js';
import { BODY } from './floors.js';
import { createRelay, createSource, GITHUB_SECRET, githubRequest, hookyardEnv, subscribeRelay } from './lib/configure.js';
import type { BenchDatabase } from './lib/database.js';
import { closedLoop } from './lib/load.js';
import { startHookyard, type Child } from './lib/processes.js';
import { startWaitSample, type WaitFigures } from './lib/wait-sample.js';
import type { Plan } from './plan.js';

/** Api processes taking ingest, per configuration (the drains' worker counts are the plan's). */
export const SCALE_OUT_APIS = [1, 2] as const;

export interface ScaleOutFigures {
  backlog: number;
  /** Deliveries/s of the plan's backlog (one relay) drained by 1, 2 and 4 worker processes (4: not in a smoke run). */
  workers_1: number;
  workers_2: number;
  workers_4?: number;
  /** Accepted ingest req/s with 1 and 2 api processes, the load spread evenly over them. */
  ingest_api_1: number;
  ingest_api_2: number;
  /** Per configuration: what the database sessions waited on and the CPU each kind of process used. */
  configurations: Record<string, { per_s?: number; rps?: number; errors?: number; seconds?: number; rss_max_mib?: number; wait_sample: WaitFigures }>;
}

/**
 * The scale-out curve on one PostgreSQL: the same backlog as `delivery` (one relay, its
 * `maxConcurrency` 100 shared by every worker through pg-boss's group limit) drained by 1, 2
 * and 4 worker processes, each in a fresh database; then ingest with 1 and 2 api processes
 * (role `api`, each on its own port).
 */
export async function scaleOut(plan: Plan, db: BenchDatabase, log: (message: string) => void): Promise<ScaleOutFigures> {
  const configurations: ScaleOutFigures['configurations'] = {};
  const drains: Record<string, number> = {};
  for (const workers of plan.scaleOutWorkers) {
    log(`scale-out, ${workers} worker${workers > 1 ? 's' : ''}`);
    const drain = await drainBacklog(plan, await db.create(`out_w${workers}`), 1, workers);
    drains[`workers_${workers}`] = drain.per_s;
    configurations[`workers_${workers}`] = { per_s: drain.per_s, seconds: drain.seconds, rss_max_mib: drain.rss_max_mib, wait_sample: drain.wait_sample };
  }
  const ingests: Record<string, number> = {};
  for (const apis of SCALE_OUT_APIS) {
    log(`scale-out, ingest on ${apis} api process${apis > 1 ? 'es' : ''}`);
    const ingest = await ingestOn(plan, await db.create(`out_a${apis}`), apis);
    ingests[`ingest_api_${apis}`] = ingest.rps;
    configurations[`ingest_api_${apis}`] = ingest;
  }
  return {
    backlog: plan.backlog,
    workers_1: drains.workers_1!,
    workers_2: drains.workers_2!,
    ...(drains.workers_4 === undefined ? {} : { workers_4: drains.workers_4 }),
    ingest_api_1: ingests.ingest_api_1!,
    ingest_api_2: ingests.ingest_api_2!,
    configurations,
  };
}

/** Signed posts (fan-out 1) from one closed-loop generator whose connections are split evenly over `apis` api processes. */
async function ingestOn(plan: Plan, databaseUrl: string, apis: number): Promise<{ rps: number; errors: number; wait_sample: WaitFigures }> {
  const started: (Child & { url: string })[] = [];
  try {
    // One after the other: the first applies the migrations, and a failed start stops the rest.
    for (let i = 0; i < apis; i++) started.push(await startHookyard(hookyardEnv(databaseUrl, 'api')));
    const first = started[0]!.url;
    const sourceId = await createSource(first, { name: 'bench', slug: 'bench', preset: 'GITHUB', secret: GITHUB_SECRET, keepHeaders: ['x-bench-seq'] });
    // Api processes only: the deliveries stay queued, so the receiver is never called.
    const relayId = await createRelay(first, 'http://127.0.0.1:9/never-called');
    await subscribeRelay(first, relayId, ['push'], [sourceId]);

    let seq = 0;
    const request = () => githubRequest('bench', BODY, `o-${apis}-${seq++}-${process.pid}`);
    const connections = Math.max(1, Math.floor(plan.connections / apis));
    const sample = await startWaitSample(databaseUrl, { hookyard: started.map((api) => api.process.pid), load: [process.pid] });
    const results = await Promise.all(started.map((api) => closedLoop(api.url, { connections, durationMs: plan.loadMs, request })));
    const waits = await sample.stop();
    return { rps: results.reduce((sum, r) => sum + r.rps, 0), errors: results.reduce((sum, r) => sum + r.errors, 0), wait_sample: waits };
  } finally {
    await Promise.all(started.map((api) => api.stop()));
  }
}
