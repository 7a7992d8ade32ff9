import { createHmac } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, createRelay, createSource, hookyardEnv, sinkStats, subscribeRelay, waitFor } from './lib/configure.js';
import { openLoop } from './lib/load.js';
import { forkServer, startHookyard } from './lib/processes.js';
import { significant, summarize } from './lib/stats.js';
import { CLOCK_TICKS, cpuTicks } from './lib/wait-sample.js';
import type { Plan } from './plan.js';

const QUERY = 'subscription($filter: DeliveryFilter) { deliveryUpdated(filter: $filter) { id status updatedAt } }';

/**
 * live lag: while deliveries run at a fixed rate, graphql-ws clients (each filtered to one of
 * the relays, plus a few unfiltered) measure the time from a delivery's status change
 * (`updatedAt`, written by the changing transaction) to its arrival at the client.
 */
export async function liveLag(plan: Plan, databaseUrl: string): Promise<{ subscribers: number; updates: number; p50_ms: number; p99_ms: number; cpu_us_per_update: number }> {
  const sink = await forkServer('sink-server.js', { RECORD: '0' });
  // LIVE_PROF_DIR: a CPU profile of the Hookyard process, written when it stops.
  const prof: Record<string, string> = process.env.LIVE_PROF_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.LIVE_PROF_DIR}` } : {};
  const hookyard = await startHookyard({ ...hookyardEnv(databaseUrl), ...prof });
  const clients: Client[] = [];
  try {
    await createSource(hookyard.url, { name: 'live', slug: 'live', preset: 'HMAC', secret: 'live', eventTypeFrom: 'json:$.type' });
    const relays: string[] = [];
    for (let i = 0; i < plan.liveRelays; i++) {
      const relayId = await createRelay(hookyard.url, `http://127.0.0.1:${sink.port}/l${i}`);
      await subscribeRelay(hookyard.url, relayId, [`live.r${i}`]);
      relays.push(relayId);
    }
    const lags: number[] = [];
    let subscribed = 0;
    const connect = (filter: Record<string, unknown> | null) =>
      new Promise<void>((resolve, reject) => {
        const client = createClient({ url: `${hookyard.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` }, lazy: false, retryAttempts: 0, onNonLazyError: reject, on: { connected: () => resolve() } });
        clients.push(client);
        client.subscribe<{ deliveryUpdated: { updatedAt: string } }>({ query: QUERY, variables: { filter } }, {
          next: (value) => {
            const at = value.data?.deliveryUpdated.updatedAt;
            if (at) lags.push(Date.now() - Date.parse(at));
          },
          error: () => {},
          complete: () => {},
        });
        subscribed++;
      });
    for (const relayId of relays) for (let c = 0; c < plan.liveClientsPerRelay; c++) await connect({ relayId });
    for (let c = 0; c < plan.liveUnfiltered; c++) await connect(null);
    // Subscriptions register after connection_ack; give the server a round trip per client.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const ticksBefore = cpuTicks(hookyard.process.pid!) ?? 0;
    const result = await openLoop(hookyard.url, {
      rate: plan.liveRate,
      durationMs: plan.liveMs,
      connections: 16,
      request: (n) => {
        const body = Buffer.from(JSON.stringify({ type: `live.r${n % plan.liveRelays}`, n }));
        return { path: '/ingest/live', headers: { 'x-signature': createHmac('sha256', 'live').update(body).digest('hex') }, body };
      },
    });
    await waitFor(async () => (await sinkStats(sink.port)).count >= result.ok, 60_000, 'the live deliveries');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The Hookyard process's CPU (ingest, delivery and the live feed: role all) per update a
    // client received: on a shared box the lag is mostly waiting for a core, so this says
    // whether a change made the work smaller rather than the neighbours quieter.
    const cpuUs = (((cpuTicks(hookyard.process.pid!) ?? 0) - ticksBefore) / CLOCK_TICKS) * 1e6;
    const s = summarize(lags);
    return { subscribers: subscribed, updates: s.count, p50_ms: s.p50_ms, p99_ms: s.p99_ms, cpu_us_per_update: significant(cpuUs / Math.max(1, s.count)) };
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await hookyard.stop();
    await sink.stop();
  }
}
