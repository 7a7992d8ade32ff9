import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { inPipelinedTransaction, RolledBackError } from '../../src/db/transaction.js';
import { createLanePool } from '../../src/db/pools.js';
import { createLogger } from '../../src/log.js';
import { DELIVERY_QUEUE, deliveryJob } from '../../src/queue/boss.js';
import { completeDeliveryJobsSql, completeDeliveryJobsValues } from '../../src/queue/complete-jobs.js';
import { fetchDeliveryJobs } from '../../src/queue/fetch-jobs.js';
import { queueTable } from '../../src/queue/queue-table.js';
import { newId } from '../../src/ids.js';
import { useBossAndPool } from '../helpers/boss.js';

const queue = useBossAndPool();

/** A pipelined pool on the test file's database (the lanes' kind). */
async function withLanes<T>(use: (lanes: pg.Pool) => Promise<T>): Promise<T> {
  const url = (queue.pool() as unknown as { options: { connectionString: string } }).options.connectionString;
  const lanes = createLanePool(url, 1, createLogger('silent'));
  try {
    return await use(lanes);
  } finally {
    await lanes.end();
  }
}

const stateOf = async (id: string) => (await queue.pool().query<{ state: string }>('select state from pgboss.job where id = $1', [id])).rows[0]?.state;

describe('a transaction on a pipelined connection', () => {
  it('commits what its chains wrote once all of them have settled, and a later statement of a chain sees an earlier chain\'s writes', async () => {
    await queue.pool().query('create table if not exists piped (id int primary key, seen int)');
    await withLanes(async (lanes) => {
      const [, seen] = await inPipelinedTransaction<[unknown, number]>(lanes, (client) => [
        client.query('insert into piped (id) values (1)'),
        // Sent after the insert, without waiting for it: it runs after it, in the same transaction.
        client.query<{ n: string }>('select count(*) as n from piped where id = 1').then((r) => Number(r.rows[0]!.n)),
      ]);
      expect(seen).toBe(1);
    });
    expect((await queue.pool().query('select id from piped')).rows).toEqual([{ id: 1 }]);
  });

  it('rolls back when one chain fails, only after every chain has settled: a statement a chain sends after the failure never runs outside the transaction', async () => {
    await queue.pool().query('create table if not exists piped_fail (id int primary key)');
    await withLanes(async (lanes) => {
      const attempt = inPipelinedTransaction(lanes, (client) => [
        client.query('insert into piped_fail (id) values (1)'),
        client.query('select 1 / 0'),
        // A chain that sends its statement later (after its own wait, as a claim waits for its fetch).
        new Promise((resolve) => setTimeout(resolve, 100)).then(() => client.query('insert into piped_fail (id) values (2)')),
      ] as const);
      await expect(attempt).rejects.toThrow(/division by zero/);
      // Past the late chain's statement: had the rollback gone first, it would have committed on its own.
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect((await queue.pool().query('select id from piped_fail')).rows).toEqual([]);
  });

  it('sends the commit behind a chain\'s last statement, unanswered, and reports a rollback when that statement fails', async () => {
    await queue.pool().query('create table if not exists piped_last (id int primary key)');
    let last: Promise<unknown> | undefined;
    await withLanes(async (lanes) => {
      const [chain] = await inPipelinedTransaction<[{ sent: Promise<unknown> }]>(lanes, (client) => [
        client.query('insert into piped_last (id) values (1)').then(() => {
          const sent = client.query('insert into piped_last (id) values (2)');
          sent.catch(() => {});
          // Settles with its last statement sent, not answered (inside an object: not awaited).
          return { sent };
        }),
      ]);
      await expect(chain.sent).resolves.toMatchObject({ rowCount: 1 });
      await expect(inPipelinedTransaction<[unknown]>(lanes, (client) => [
        client.query('insert into piped_last (id) values (3)').then(() => {
          // The chain settles with this one sent: the commit goes behind it and is answered with a rollback.
          last = client.query('insert into piped_last (id) values (1)');
          last.catch(() => {});
        }),
      ])).rejects.toThrow(RolledBackError);
      await expect(last).rejects.toThrow(/duplicate key/);
    });
    expect((await queue.pool().query('select id from piped_last order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('rolls back when the work throws before it returns its chains', async () => {
    await queue.pool().query('create table if not exists piped_throw (id int primary key)');
    await withLanes(async (lanes) => {
      await expect(inPipelinedTransaction(lanes, (client) => {
        void client.query('insert into piped_throw (id) values (1)').catch(() => {});
        throw new Error('no chains');
      })).rejects.toThrow('no chains');
      // The connection went back clean: the next transaction on it commits.
      await inPipelinedTransaction(lanes, (client) => [client.query('insert into piped_throw (id) values (2)')] as const);
    });
    expect((await queue.pool().query('select id from piped_throw')).rows).toEqual([{ id: 2 }]);
  });
});

describe('completing delivery jobs inside another statement', () => {
  it('deletes the fetched jobs at the retry count they were fetched at, and leaves a job fetched again alone', async () => {
    const boss = queue.boss();
    const { table } = await queueTable(boss, DELIVERY_QUEUE);
    const relayId = newId();
    await boss.insert(DELIVERY_QUEUE, [deliveryJob(newId(), 1, relayId, 10), deliveryJob(newId(), 1, relayId, 10)]);
    const fetched = await fetchDeliveryJobs(boss, queue.pool(), { batchSize: 2, priority: 1, ignoreGroups: [] });
    expect(fetched).toHaveLength(2);
    const [kept, stale] = fetched.map((f) => ({ id: f.job_id, retryCount: f.job_retry_count }));
    // The second job's attempt is stale: its worker lost it and pg-boss handed it out again.
    const carried = `with completed as (${completeDeliveryJobsSql(table, 2)} returning id) select $1::int as first, array_agg(id) as ids from completed`;
    const { rows } = await queue.pool().query<{ first: number; ids: string[] | null }>(carried, [7, ...completeDeliveryJobsValues([kept!, { ...stale!, retryCount: stale!.retryCount + 1 }])]);
    expect(rows[0]).toEqual({ first: 7, ids: [kept!.id] });
    // Finished means gone, as graphile-worker's jobs go (boss.complete would keep it, `completed`).
    expect(await stateOf(kept!.id)).toBeUndefined();
    expect(await stateOf(stale!.id)).toBe('active');
  });
});
