import { describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { deliveryJob, DELIVERY_QUEUE, FIRST_TRY_PRIORITY, RETRY_PRIORITY } from '../../src/queue/boss.js';
import { fetchDeliveryJobs } from '../../src/queue/fetch-jobs.js';
import { useBossAndPool } from '../helpers/boss.js';

const queue = useBossAndPool();

const fetchJobs = (batchSize: number, ignoreGroups: string[] = [], priority = FIRST_TRY_PRIORITY) =>
  fetchDeliveryJobs(queue.boss(), queue.pool(), { batchSize, priority, ignoreGroups });

/** Jobs of one relay whose tier is `tier`, inserted as pg-boss would (group id, tier text). */
async function insert(count: number, tier: string, priority = FIRST_TRY_PRIORITY): Promise<string> {
  const relayId = newId();
  await queue.boss().insert(DELIVERY_QUEUE, Array.from({ length: count }, () => ({ ...deliveryJob(newId(), 1, relayId, 1), group: { id: relayId, tier }, priority })));
  return relayId;
}

describe('fetchDeliveryJobs: pg-boss fetch with the tier limit computed in SQL', () => {
  it.each([
    ['1', 1], ['3', 3], ['12', 12], ['1000', 15],
    // Not a tier a relay can have: pg-boss's default (10), as when a tier is missing from its map.
    ['0', 10], ['1001', 10], ['x', 10], ['007', 10],
  ])('tier %s lets %i of 15 jobs be active', async (tier, limit) => {
    const relayId = await insert(15, tier);
    const rows = (await fetchJobs(200)).filter((r) => r.job_group_id === relayId);
    expect(rows).toHaveLength(limit);
    // Counted with the jobs already active: a second fetch takes only what the limit leaves.
    expect((await fetchJobs(200)).filter((r) => r.job_group_id === relayId)).toHaveLength(0);
    await queue.boss().complete(DELIVERY_QUEUE, rows.map((r) => r.job_id));
    expect((await fetchJobs(200)).filter((r) => r.job_group_id === relayId)).toHaveLength(Math.min(limit, 15 - limit));
  });

  it('takes one lane, leaves out the ignored relays, and returns pg-boss claim columns', async () => {
    const ignored = await insert(2, '5');
    const retry = await insert(2, '5', RETRY_PRIORITY);
    const taken = await insert(2, '5');
    const rows = await fetchJobs(200, [ignored]);
    expect(new Set(rows.map((r) => r.job_group_id))).toEqual(new Set([taken]));
    expect(rows[0]).toMatchObject({ job_retry_count: 0, job_group_tier: '5' });
    expect(rows[0]!.job_data).toHaveProperty('deliveryId');
    expect((await fetchJobs(200, [], RETRY_PRIORITY)).map((r) => r.job_group_id)).toEqual([retry, retry]);
  });

  it('is planned once per connection, whatever the batch size: a prepared statement with the size a parameter', async () => {
    const client = await queue.pool().connect();
    try {
      const prepared = async () => (await client.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements where statement like '%fetched_jobs%'`)).rows[0]!.n;
      // Another test may have prepared this connection's other form (relays left out) already.
      const before = await prepared();
      const relayId = await insert(5, '5');
      const sizes = [1, 2, 50];
      const taken = [];
      for (const batchSize of sizes) taken.push(...(await fetchDeliveryJobs(queue.boss(), client, { batchSize, priority: FIRST_TRY_PRIORITY, ignoreGroups: [] })).filter((r) => r.job_group_id === relayId));
      // The sizes were honoured (1 + 2, then the 2 left of the relay's 5).
      expect(taken).toHaveLength(5);
      const after = await prepared();
      expect(after).toBeGreaterThanOrEqual(1);
      expect(after - before).toBeLessThanOrEqual(1);
      await queue.boss().complete(DELIVERY_QUEUE, taken.map((r) => r.job_id));
    } finally {
      client.release();
    }
  });
});
