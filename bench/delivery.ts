import pg from 'pg';
import { startBoss, deliveryJob, DELIVERY_QUEUE } from '../src/queue/boss.js';
import { BODY } from './floors.js';
import { createRelay, hookyardEnv, sinkStats, waitFor } from './lib/configure.js';
import { forkServer, startHookyard } from './lib/processes.js';
import { significant } from './lib/stats.js';
import type { Plan } from './plan.js';

export interface DrainFigures {
  deliveries: number;
  relays: number;
  seconds: number;
  per_s: number;
  rss_start_mib: number;
  rss_end_mib: number;
  rss_max_mib: number;
}

/**
 * delivery: a backlog of deliveries (events, deliveries and their pg-boss jobs written
 * straight into the database, as ingest would have left them) drained by one worker process
 * to the sink; with one relay per event, and with ten relays per event.
 */
export async function drainBacklog(plan: Plan, databaseUrl: string, fanout: number): Promise<DrainFigures> {
  const sink = await forkServer('sink-server.js', { RECORD: '0' });
  try {
    // An API replica applies the migrations and creates the relays, then leaves.
    const api = await startHookyard(hookyardEnv(databaseUrl, 'api'));
    const relays: string[] = [];
    for (let i = 0; i < fanout; i++) relays.push(await createRelay(api.url, `http://127.0.0.1:${sink.port}/r${i}`));
    await api.stop();

    const events = Math.ceil(plan.backlog / fanout);
    const total = events * fanout;
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const { rows } = await pool.query<{ event_id: string; delivery_id: string; relay_id: string }>(
      `with e as (
         insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
         select gen_random_uuid(), null, 'bench.backlog', null, '{}', 'application/json', $1, now() from generate_series(1, $2)
         returning id)
       insert into delivery (id, event_id, relay_id, status, attempt_count, created_at, updated_at)
       select gen_random_uuid(), e.id, r.id, 'PENDING', 0, now(), now() from e cross join unnest($3::uuid[]) as r(id)
       returning event_id, id as delivery_id, relay_id`,
      [BODY, events, relays],
    );
    const boss = await startBoss({ databaseUrl, poolSize: 2 });
    for (let i = 0; i < rows.length; i += 5000) {
      await boss.insert(DELIVERY_QUEUE, rows.slice(i, i + 5000).map((r) => deliveryJob(r.delivery_id, 1, r.relay_id, 100)));
    }
    await boss.stop({ graceful: false });
    await pool.end();

    const worker = await startHookyard(hookyardEnv(databaseUrl, 'worker'));
    const rssStart = worker.rssMiB();
    let rssMax = rssStart;
    await waitFor(async () => {
      rssMax = Math.max(rssMax, worker.rssMiB());
      return (await sinkStats(sink.port)).count >= total;
    }, 15 * 60_000, 'the backlog to drain');
    // Timed by the sink, from the first delivery to the last: start-up is not delivery time.
    const { firstAt, lastAt } = await sinkStats(sink.port);
    const seconds = Math.max(lastAt - firstAt, 1) / 1000;
    const rssEnd = worker.rssMiB();
    await worker.stop();
    return { deliveries: total, relays: fanout, seconds: significant(seconds), per_s: Math.round(total / seconds), rss_start_mib: rssStart, rss_end_mib: rssEnd, rss_max_mib: rssMax };
  } finally {
    await sink.stop();
  }
}
