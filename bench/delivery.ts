import pg from 'pg';
import { startBoss, deliveryJob, DELIVERY_QUEUE, onClient } from '../src/queue/boss.js';
import { BODY } from './floors.js';
import { createRelay, hookyardEnv, sinkStats, waitFor } from './lib/configure.js';
import { connectHeapProbe, inspectOption, type HeapProbe } from './lib/heap-probe.js';
import { forkServer, freePort, startHookyard, type Child } from './lib/processes.js';
import { significant } from './lib/stats.js';
import { cpuPerUnit, startWaitSample, type WaitFigures } from './lib/wait-sample.js';
import type { Plan } from './plan.js';

export interface DrainFigures {
  deliveries: number;
  relays: number;
  workers: number;
  seconds: number;
  per_s: number;
  rss_start_mib: number;
  rss_end_mib: number;
  rss_max_mib: number;
  /** One worker only: heap used after a full GC when it is ready, before the drain, and after the last delivery. */
  heap_start_mib?: number;
  heap_end_mib?: number;
  heap_growth?: number;
  /** What the database sessions waited on and the CPU the processes used, from the drain's start to its end. */
  wait_sample: WaitFigures;
  /** CPU per delivery (µs) by process (`hookyard`: the workers; `postgres`; `sink`) and in total: the sample's cores over the rate. */
  cpu_us_per_delivery: Record<string, number>;
  /** With `rounds` > 1 (diagnosis): heap used after a full GC after each further backlog drained by the same worker. */
  heap_after_rounds_mib?: number[];
  rss_max_rounds_mib?: number;
  /** With `memoryEveryMs` (diagnosis): the largest reading of each figure of HeapProbe.memory during the first drain. */
  memory_max_mib?: Record<string, number>;
}

/** Diagnosis only (bench/tools/): not used by `npm run bench`. */
export interface DrainDiagnosis {
  /** Backlogs drained one after the other by the same worker process (the figures are the first's). */
  rounds?: number;
  /** Called at each heap reading (`start`, then `end-1`, `end-2`, …), after it: e.g. to take a heap snapshot. */
  atHeapReading?: (probe: HeapProbe, moment: string) => Promise<void>;
  /** Reads the worker's memory (HeapProbe.memory) every this many ms of the first drain; the largest of each figure is returned. */
  memoryEveryMs?: number;
  /** Node and V8 flags for the worker only, on its command line (an A/B of V8 flags: NODE_OPTIONS refuses most). */
  workerNodeFlags?: string[];
}

/**
 * delivery: a backlog of deliveries (events, deliveries and their pg-boss jobs written
 * straight into the database, as ingest would have left them) drained by `workers` worker
 * processes to the sink; with one relay per event, and with ten relays per event.
 */
export async function drainBacklog(plan: Plan, databaseUrl: string, fanout: number, workers = 1, diagnosis: DrainDiagnosis = {}): Promise<DrainFigures> {
  const sink = await forkServer('sink-server.js', { RECORD: '0' });
  try {
    // An API replica applies the migrations and creates the relays, then leaves.
    const api = await startHookyard(hookyardEnv(databaseUrl, 'api'));
    const relays: string[] = [];
    for (let i = 0; i < fanout; i++) relays.push(await createRelay(api.url, `http://127.0.0.1:${sink.port}/r${i}`));
    await api.stop();

    // The workers start on an empty queue, so one worker's heap can be read before the drain;
    // the whole backlog then appears at once, in one transaction.
    const inspectPort = workers === 1 ? await freePort() : undefined;
    const env = { ...hookyardEnv(databaseUrl, 'worker'), ...(inspectPort ? { NODE_OPTIONS: inspectOption(inspectPort) } : {}) };
    const started: Child[] = [];
    let probe: HeapProbe | undefined;
    try {
      for (let i = 0; i < workers; i++) started.push(await startHookyard(env, diagnosis.workerNodeFlags));
      probe = inspectPort ? await connectHeapProbe(inspectPort) : undefined;
      const heapStart = await probe?.usedAfterGcMiB();
      if (probe) await diagnosis.atHeapReading?.(probe, 'start');
      const rss = () => started.reduce((max, worker) => Math.max(max, worker.rssMiB()), 0);
      const rssStart = rss();
      let rssMax = rssStart;

      const events = Math.ceil(plan.backlog / fanout);
      const total = events * fanout;
      await seedBacklog(databaseUrl, events, relays);
      // Sampled from the first delivery on: an idle worker finds the backlog at its next poll (≤ 2 s).
      await waitFor(async () => (await sinkStats(sink.port)).count > 0, 60_000, 'the first delivery');
      const sample = await startWaitSample(databaseUrl, { hookyard: started.map((w) => w.process.pid), sink: [sink.process.pid] });
      const memoryMax: Record<string, number> = {};
      let memoryAt = 0;
      await waitFor(async () => {
        rssMax = Math.max(rssMax, rss());
        if (probe && diagnosis.memoryEveryMs && Date.now() - memoryAt >= diagnosis.memoryEveryMs) {
          memoryAt = Date.now();
          for (const [key, value] of Object.entries(await probe.memory())) memoryMax[key] = Math.max(memoryMax[key] ?? 0, value);
        }
        return (await sinkStats(sink.port)).count >= total;
      }, 15 * 60_000, 'the backlog to drain');
      const waits = await sample.stop();
      // Timed by the sink, from the first delivery to the last: start-up is not delivery time.
      const { firstAt, lastAt } = await sinkStats(sink.port);
      const seconds = Math.max(lastAt - firstAt, 1) / 1000;
      const rssEnd = rss();
      rssMax = Math.max(rssMax, rssEnd);
      const heapEnd = await probe?.usedAfterGcMiB();
      if (probe) await diagnosis.atHeapReading?.(probe, 'end-1');
      const heap = heapStart !== undefined && heapEnd !== undefined ? { heap_start_mib: heapStart, heap_end_mib: heapEnd, heap_growth: significant(heapEnd / heapStart) } : {};
      const rounds: number[] = [];
      const rssMaxFirst = rssMax;
      for (let round = 2; round <= (diagnosis.rounds ?? 1) && probe; round++) {
        await seedBacklog(databaseUrl, events, relays);
        await waitFor(async () => {
          rssMax = Math.max(rssMax, rss());
          return (await sinkStats(sink.port)).count >= total * round;
        }, 15 * 60_000, `backlog ${round} to drain`);
        rounds.push(await probe.usedAfterGcMiB());
        await diagnosis.atHeapReading?.(probe, `end-${round}`);
      }
      return { ...(rounds.length > 0 ? { heap_after_rounds_mib: rounds, rss_max_rounds_mib: rssMax } : {}), ...(diagnosis.memoryEveryMs ? { memory_max_mib: memoryMax } : {}), deliveries: total, relays: fanout, workers, seconds: significant(seconds), per_s: Math.round(total / seconds), rss_start_mib: rssStart, rss_end_mib: rssEnd, rss_max_mib: rssMaxFirst, ...heap, wait_sample: waits, cpu_us_per_delivery: cpuPerUnit(waits.cpu_cores, total / seconds) };
    } finally {
      probe?.close();
      await Promise.all(started.map((worker) => worker.stop()));
    }
  } finally {
    await sink.stop();
  }
}

/** `events` events with one PENDING delivery per relay each, and their first-try jobs, committed together. */
async function seedBacklog(databaseUrl: string, events: number, relays: string[]): Promise<void> {
  const boss = await startBoss({ databaseUrl, poolSize: 2 });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ event_id: string; delivery_id: string; relay_id: string }>(
      `with e as (
         insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
         select gen_random_uuid(), null, 'bench.backlog', null, '{}', 'application/json', $1, now() from generate_series(1, $2)
         returning id)
       insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at)
       select gen_random_uuid(), e.id, r.id, 'PENDING', 0, now(), now() from e cross join unnest($3::uuid[]) as r(id)
       returning event_id, id as delivery_id, relay_id`,
      [BODY, events, relays],
    );
    const db = onClient(client);
    for (let i = 0; i < rows.length; i += 5000) {
      await boss.insert(DELIVERY_QUEUE, rows.slice(i, i + 5000).map((r) => deliveryJob(r.delivery_id, 1, r.relay_id, 100)), { db });
    }
    // The statistics commit with the backlog (ANALYZE counts this transaction's rows): the
    // workers, already running, see both at once (lib/database.ts `analyze`).
    await client.query('analyze');
    await client.query('commit');
  } finally {
    client.release();
    await pool.end();
    await boss.stop({ graceful: false });
  }
}
