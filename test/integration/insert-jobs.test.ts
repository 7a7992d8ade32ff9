import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { inTransaction } from '../../src/db/transaction.js';
import { CONCURRENCY_TIERS, DELIVERY_QUEUE, deliveryJob, onClient } from '../../src/queue/boss.js';
import { deliveryJobValues, insertDeliveryJobsSql, jobTable } from '../../src/queue/insert-jobs.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

let app: App;

beforeAll(async () => {
  // No workers: only this file fetches the queue's jobs.
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
});

afterAll(async () => {
  await app?.stop();
});

async function insertFolded(jobs: ReturnType<typeof deliveryJob>[]): Promise<void> {
  const table = await jobTable(app.boss, DELIVERY_QUEUE);
  await inTransaction(app.pool, (client) => client.query(insertDeliveryJobsSql(table, DELIVERY_QUEUE, 1), deliveryJobValues(jobs)));
}

const jobsOf = async (deliveryIds: string[]) =>
  (await app.pool.query<{ id: string; state: string; waits: boolean }>(
    `select id, state, start_after > now() as waits from pgboss.job where name = $1 and data->>'deliveryId' = any($2::text[])`,
    [DELIVERY_QUEUE, deliveryIds],
  )).rows;

describe('the job insert ingest folds into its delivery insert', () => {
  it('writes every column as pg-boss insert() does, first tries and scheduled retries alike', async () => {
    const relay = randomUUID();
    const jobs = [
      deliveryJob(randomUUID(), 1, relay, 7),
      deliveryJob(randomUUID(), 4, randomUUID(), 1000, new Date(Date.now() + 90_000)),
    ];
    const table = await jobTable(app.boss, DELIVERY_QUEUE);
    // One transaction: now() (pg-boss's job_now()) is the same for both inserts.
    const rows = await inTransaction(app.pool, async (client) => {
      await app.boss.insert(DELIVERY_QUEUE, jobs, { db: onClient(client) });
      await client.query(insertDeliveryJobsSql(table, DELIVERY_QUEUE, 1), deliveryJobValues(jobs));
      return (await client.query<{ row: Record<string, unknown> }>(
        `select to_jsonb(j) - 'id' as row from pgboss.job j where name = $1 and data->>'deliveryId' = any($2::text[]) order by data->>'deliveryId'`,
        [DELIVERY_QUEUE, jobs.map((j) => j.data!.deliveryId)],
      )).rows.map((r) => r.row);
    });
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual(rows[1]);
    expect(rows[2]).toEqual(rows[3]);
    // The queue's options reached the rows (not pg-boss's defaults).
    expect(rows.map((r) => [r.retry_limit, r.heartbeat_seconds, r.deletion_seconds])).toEqual(Array(4).fill([1000, 10, 3600]));
  });

  it('refuses a job option it would not write', () => {
    expect(() => deliveryJobValues([{ ...deliveryJob(randomUUID(), 1, randomUUID(), 1), singletonKey: 'k' }])).toThrow(/singletonKey/);
  });

  it('jobs it writes are fetched within their group limit, retried on failure and expired when their heartbeat stops', async () => {
    const relay = randomUUID();
    const deliveryIds: string[] = [randomUUID(), randomUUID(), randomUUID()];
    await insertFolded(deliveryIds.map((id) => deliveryJob(id, 1, relay, 2)));

    const fetched = await app.boss.fetch<{ deliveryId: string }>(DELIVERY_QUEUE, { batchSize: 10, groupConcurrency: { default: 10, tiers: CONCURRENCY_TIERS } });
    const mine = fetched.filter((j) => deliveryIds.includes(j.data.deliveryId));
    expect(mine).toHaveLength(2);
    expect(mine.every((j) => j.groupId === relay && j.groupTier === '2')).toBe(true);

    await app.boss.fail(DELIVERY_QUEUE, mine[0]!.id);
    await app.pool.query(`update pgboss.job set heartbeat_on = now() - interval '1 hour' where id = $1`, [mine[1]!.id]);
    await app.boss.supervise(DELIVERY_QUEUE);

    const byId = new Map((await jobsOf(deliveryIds)).map((j) => [j.id, j]));
    // The queue's retry delay with backoff: both wait before their next fetch.
    expect(byId.get(mine[0]!.id)).toMatchObject({ state: 'retry', waits: true });
    expect(byId.get(mine[1]!.id)).toMatchObject({ state: 'retry', waits: true });
  });
});
