import type { PoolClient } from 'pg';
import { describe, expect, it } from 'vitest';
import { LanePump, type LaneOutcome, type LaneWork } from '../../src/delivery/lane-pump.js';
import { fetchDeliveryJobs } from '../../src/queue/fetch-jobs.js';
import { createLogger } from '../../src/log.js';
import { deliveryJob, DELIVERY_QUEUE, FIRST_TRY_PRIORITY, type JobAck } from '../../src/queue/boss.js';
import { completeDeliveryJobsSql, completeDeliveryJobsValues } from '../../src/queue/complete-jobs.js';
import { queueTable } from '../../src/queue/queue-table.js';
import { newId } from '../../src/ids.js';
import { useBossAndPool } from '../helpers/boss.js';
import { waitUntil } from '../helpers/sink.js';

const queue = useBossAndPool();

/**
 * The jobs' completion as the worker's outcome statement carries it, sent before this returns
 * (LaneWork `record` sends its first statement at once: the fetch sent next counts the slots it frees).
 */
const completeOn = (client: PoolClient, table: string, outcomes: readonly LaneOutcome[]) => {
  const acks: JobAck[] = outcomes.flatMap((o) => (o.ack ? [o.ack] : []));
  return client.query(completeDeliveryJobsSql(table, 1), completeDeliveryJobsValues(acks));
};

/** The real fetch (pg-boss's, in fetch-jobs.ts's statement), held back 300 ms after it read the queue (`fetching` set meanwhile). */
let fetching: (() => void) | undefined;
const calls: string[] = [];
const slowFetch: LaneWork<undefined>['fetch'] = async (db, request) => {
  calls.push('fetch');
  const rows = await fetchDeliveryJobs(queue.boss(), db, request);
  await new Promise<void>((resolve) => {
    fetching = resolve;
    setTimeout(resolve, 300);
  });
  fetching = undefined;
  return { items: rows.map((r) => ({ job: r.job_data, jobId: r.job_id, ack: { id: r.job_id, retryCount: r.job_retry_count }, relayId: r.job_group_id ?? '' })), claimed: Promise.resolve(undefined) };
};

describe('LanePump wake-ups', () => {
  it('a wake-up that arrives while a fetch is under way fetches again when it returns, not at the next poll', async () => {
    const handled: string[] = [];
    const pump = new LanePump(queue.boss(), queue.pool(), { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: 4, reserve: 1, pollMs: 60_000 }, {
      fetch: slowFetch,
      // false: nothing recorded, so the pump acknowledges the job itself.
      start: (items) => items.map(async (item) => {
        handled.push(item.job.deliveryId);
        return false;
      }),
      record: async () => {},
    }, createLogger('silent'));
    pump.start();
    try {
      await waitUntil(() => fetching, 10_000, 'the first fetch');
      const deliveryId = newId();
      await queue.boss().insert(DELIVERY_QUEUE, [deliveryJob(deliveryId, 1, newId(), 10)]);
      pump.wake();
      const started = Date.now();
      await waitUntil(() => handled.includes(deliveryId) || undefined, 10_000, 'the job');
      // Without the kept wake-up it would wait for the 60 s poll.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await pump.stop(1_000);
    }
  });

  it('stops at once when asked during a fetch, without sleeping out its poll', async () => {
    const pump = new LanePump(queue.boss(), queue.pool(), { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: 4, reserve: 1, pollMs: 60_000 }, {
      fetch: slowFetch,
      start: (items) => items.map(async () => false),
      record: async () => {},
    }, createLogger('silent'));
    pump.start();
    await waitUntil(() => fetching, 10_000, 'a fetch under way');
    const started = Date.now();
    const stopped = await Promise.race([pump.stop(1_000).then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000))]);
    expect(stopped, 'stop() returned before the 60 s poll').toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('new work announced after a turn fetched is fetched next, before the outcomes waiting meanwhile are recorded', async () => {
    const { table } = await queueTable(queue.boss(), DELIVERY_QUEUE);
    const first = newId();
    const second = newId();
    const relayId = newId();
    await queue.boss().insert(DELIVERY_QUEUE, [deliveryJob(first, 1, relayId, 10)]);
    calls.length = 0;
    const pump: LanePump<undefined, LaneOutcome> = new LanePump(queue.boss(), queue.pool(), { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: 4, reserve: 1, pollMs: 60_000 }, {
      fetch: slowFetch,
      // The first job finishes at once, its outcome waiting for the next turn.
      start: (items, _claimed, record) => items.map(async (item) => {
        calls.push(`start ${item.job.deliveryId}`);
        await record({ ack: item.ack });
        return true;
      }),
      record: async (client, outcomes) => {
        calls.push('record');
        await completeOn(client, table, outcomes);
      },
    }, createLogger('silent'));
    pump.start();
    try {
      await waitUntil(() => fetching, 10_000, 'the first fetch');
      await queue.boss().insert(DELIVERY_QUEUE, [deliveryJob(second, 1, relayId, 10)]);
      pump.wake();
      await waitUntil(() => calls.includes(`start ${second}`) || undefined, 10_000, 'the second job');
      expect(calls.slice(0, 4)).toEqual(['fetch', `start ${first}`, 'fetch', `start ${second}`]);
      await waitUntil(() => calls.filter((c) => c === 'record').length > 0 || undefined, 10_000, 'the outcomes recorded');
    } finally {
      await pump.stop(1_000);
    }
  });

  it('fetches for a slot only once the outcome that frees it has committed', async () => {
    const { table } = await queueTable(queue.boss(), DELIVERY_QUEUE);
    const relayId = newId();
    const ids = [newId(), newId(), newId()];
    await queue.boss().insert(DELIVERY_QUEUE, ids.map((id) => deliveryJob(id, 1, relayId, 10)));
    const jobIds: string[] = [];
    /** The state, seen from another connection, of the job before it when each job starts ('finished': deleted). */
    const before: (string | undefined)[] = [];
    let recorded = 0;
    // One slot, and each record slow to commit: a fetch counting the slot free before the commit would start the next job meanwhile.
    const pump: LanePump<undefined, LaneOutcome> = new LanePump(queue.boss(), queue.pool(), { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: 1, reserve: 1, pollMs: 60_000 }, {
      fetch: async (db, request) => {
        const rows = await fetchDeliveryJobs(queue.boss(), db, request);
        return { items: rows.map((r) => ({ job: r.job_data, jobId: r.job_id, ack: { id: r.job_id, retryCount: r.job_retry_count }, relayId: r.job_group_id ?? '' })), claimed: Promise.resolve(undefined) };
      },
      start: (items, _claimed, record) => items.map(async (item) => {
        const previous = jobIds.at(-1);
        jobIds.push(item.jobId);
        before.push(previous ? ((await queue.boss().getJobById(DELIVERY_QUEUE, previous))?.state ?? 'finished') : undefined);
        await record({ ack: item.ack });
        return true;
      }),
      record: async (client, outcomes) => {
        await completeOn(client, table, outcomes);
        await client.query('select pg_sleep(0.2)');
        recorded += outcomes.length;
      },
    }, createLogger('silent'));
    pump.start();
    try {
      pump.wake();
      await waitUntil(() => recorded === 3 || undefined, 20_000, 'the three jobs, one at a time');
      expect(before).toEqual([undefined, 'finished', 'finished']);
    } finally {
      await pump.stop(1_000);
    }
  });
});
