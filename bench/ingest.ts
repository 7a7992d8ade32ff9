import { BODY } from './floors.js';
import { createRelay, createSource, GITHUB_SECRET, githubRequest, hookyardEnv, sinkStats, subscribeRelay, waitFor } from './lib/configure.js';
import { closedLoop, openLoop } from './lib/load.js';
import { forkServer, startHookyard, type Child } from './lib/processes.js';
import { summarize } from './lib/stats.js';
import type { Plan } from './plan.js';
import { analyze } from './lib/database.js';

export interface IngestFigures {
  /** The Hookyard role that took the load: `api` alone (no worker in the process or beside it). */
  role: 'api';
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  half_load_rate: number;
  p99_ms_half_load: number;
}

export interface E2eFigures {
  [rate: string]: { p50_ms: number; p99_ms: number; count: number; lost: number };
}

/**
 * ingest: signed GitHub posts to a source with one matching subscription, taken by Hookyard in
 * role `api` alone (issue 13: the api role, fan-out 1; every 200 means the event, its delivery
 * and its job committed), first in a closed loop for the maximum, then in an open loop at half
 * of it for `p99_ms_half_load`. No worker runs meanwhile: the deliveries stay queued. Then a
 * worker process (role `worker`, a process of its own) starts, drains that backlog to the sink,
 * and e2e latency is measured at fixed rates with both running, from the ingest request's start
 * to the sink receiving the delivery.
 */
export async function ingestAndE2e(plan: Plan, databaseUrl: string): Promise<{ ingest: IngestFigures; e2e: E2eFigures }> {
  const sink = await forkServer('sink-server.js');
  const hookyard = await startHookyard(hookyardEnv(databaseUrl, 'api'));
  let worker: Child | undefined;
  try {
    const sourceId = await createSource(hookyard.url, { name: 'bench', slug: 'bench', preset: 'GITHUB', secret: GITHUB_SECRET, keepHeaders: ['x-bench-seq'] });
    const relayId = await createRelay(hookyard.url, `http://127.0.0.1:${sink.port}/hooks`);
    await subscribeRelay(hookyard.url, relayId, ['push'], [sourceId]);

    let seq = 0;
    const request = () => githubRequest('bench', BODY, `i-${seq++}-${process.pid}`);
    const max = await closedLoop(hookyard.url, { connections: plan.connections, durationMs: plan.loadMs, request });
    const halfRate = Math.max(1, Math.round(max.rps / 2));
    const half = await openLoop(hookyard.url, { rate: halfRate, durationMs: plan.loadMs, connections: plan.connections, request });

    // The worker starts after the ingest figures, so it never shares the cores with them.
    worker = await startHookyard(hookyardEnv(databaseUrl, 'worker'));
    await waitFor(async () => (await sinkStats(sink.port)).count >= max.ok + half.ok, 300_000, 'the ingest backlog to drain');
    // The tables now hold the ingest loops' events: statistics before the timed e2e (lib/database.ts `analyze`).
    await analyze(databaseUrl);

    const e2e: E2eFigures = {};
    for (const rate of plan.e2eRates) {
      await fetch(`http://127.0.0.1:${sink.port}/__reset`, { method: 'POST' });
      const sent = new Map<string, number>();
      const result = await openLoop(hookyard.url, {
        rate,
        durationMs: plan.e2eMs,
        connections: plan.connections,
        request: (n) => githubRequest('bench', BODY, `e-${rate}-${n}`),
        onSent: (n, at) => sent.set(`e-${rate}-${n}`, at),
      });
      await waitFor(async () => (await sinkStats(sink.port)).count >= result.ok, 60_000, `the ${rate}/s deliveries`).catch(() => {});
      const { arrivals } = await sinkStats(sink.port);
      const latencies = [...sent].flatMap(([key, at]) => (arrivals[key] ? [arrivals[key]! - at] : []));
      const s = summarize(latencies);
      e2e[String(rate)] = { p50_ms: s.p50_ms, p99_ms: s.p99_ms, count: s.count, lost: sent.size - s.count };
    }
    return {
      ingest: { role: 'api', rps: max.rps, p50_ms: max.p50_ms, p99_ms: max.p99_ms, errors: max.errors, half_load_rate: halfRate, p99_ms_half_load: half.p99_ms },
      e2e,
    };
  } finally {
    await worker?.stop();
    await hookyard.stop();
    await sink.stop();
  }
}
