import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStatementTimeout } from '../../src/db/unavailable.js';
import { GroupCommit, type GroupCommitOptions } from '../../src/db/group-commit.js';
import { createTestDatabase } from '../helpers/database.js';

let pool: pg.Pool;
let next = 0;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 6 });
  await pool.query('create table group_commit_test (id int primary key, value int not null check (value >= 0), txid bigint not null default txid_current())');
});

afterAll(async () => {
  await pool.end();
});

/** Items are rows; each transaction's size is recorded, and its concurrency. */
function rows(options: Partial<GroupCommitOptions<number, number>> = {}) {
  const sizes: number[] = [];
  let open = 0;
  let mostOpen = 0;
  const group = new GroupCommit<number, number>(pool, {
    maxBatch: 10,
    async work(client, values) {
      open++;
      mostOpen = Math.max(mostOpen, open);
      try {
        sizes.push(values.length);
        const ids = values.map(() => ++next);
        await client.query('insert into group_commit_test (id, value) select * from unnest($1::int[], $2::int[])', [ids, values]);
        await client.query('select pg_sleep(0.02)');
        return ids;
      } finally {
        open--;
      }
    },
    ...options,
  });
  return { group, sizes, mostOpen: () => mostOpen };
}

const stored = async (ids: number[]) =>
  (await pool.query<{ id: number; txid: string }>('select id, txid::text from group_commit_test where id = any($1) order by id', [ids])).rows;

describe('GroupCommit', () => {
  it('commits an item at once when idle, and settles its promise with its commit', async () => {
    const { group, sizes } = rows();
    const id = await group.add(1);
    expect(sizes).toEqual([1]);
    expect(await stored([id])).toHaveLength(1);
  });

  it('shares one transaction among the items that arrive during a commit, up to maxBatch', async () => {
    const { group, sizes } = rows();
    const ids = await Promise.all(Array.from({ length: 25 }, (_, i) => group.add(i)));
    // The first item commits alone; the 24 that queued behind it take batches of at most 10.
    expect(sizes).toEqual([1, 10, 10, 4]);
    const found = await stored(ids);
    expect(found).toHaveLength(25);
    expect(new Set(found.map((r) => r.txid)).size).toBe(4);
  });

  it('runs at most maxFlushes transactions at once', async () => {
    const { group, sizes, mostOpen } = rows({ maxFlushes: 3, maxBatch: 4 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => group.add(i)));
    expect(mostOpen()).toBe(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(30);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });

  it('retries a failed batch item by item, so one bad item fails alone', async () => {
    const { group } = rows();
    const results = await Promise.allSettled([group.add(1), group.add(2), group.add(-1), group.add(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: '23514' });
    expect(await stored(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])))).toHaveLength(3);
  });

  it('fails the whole batch, explained, when retrying alone cannot help', async () => {
    const { group } = rows({ retryAlone: () => false, explain: (error) => new Error(`explained: ${(error as { code: string }).code}`) });
    const first = group.add(1);
    const results = await Promise.allSettled([group.add(2), group.add(-1)]);
    await first;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('explained: 23514');
  });

  it('refuses an item at once when maxQueue items wait', async () => {
    const { group } = rows({ maxQueue: 2, full: () => new Error('full') });
    const first = group.add(1); // in its transaction: no longer waiting
    const waiting = [group.add(2), group.add(3)];
    await expect(group.add(4)).rejects.toThrow('full');
    await Promise.all([first, ...waiting]);
  });

  it('drops an item whose deadline passes while it waits in the queue', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const group = new GroupCommit<number, number>(pool, {
      maxBatch: 10,
      timeoutMs: 150,
      async work(_client, values) {
        if (values[0] === 1) await held;
        return values;
      },
      late: () => new Error('late'),
    });
    const first = group.add(1);
    await expect(group.add(2)).rejects.toThrow('late');
    release();
    expect(await first).toBe(1);
    expect(await group.add(3)).toBe(3);
  });

  it("bounds a transaction's statements by its earliest deadline", async () => {
    const group = new GroupCommit<number, number>(pool, {
      maxBatch: 10,
      timeoutMs: 150,
      async work(client, values) {
        await client.query('select pg_sleep($1)', [values[0]!]);
        return values;
      },
      explain: (error) => (isStatementTimeout(error) ? new Error('timed out') : error),
    });
    await expect(group.add(2)).rejects.toThrow('timed out');
    expect(await group.add(0)).toBe(0);
  });
});
