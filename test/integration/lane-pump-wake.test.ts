import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LanePump } from '../../src/delivery/lane-pump.js';
import { createLogger } from '../../src/log.js';
import { deliveryJob, DELIVERY_QUEUE, FIRST_TRY_PRIORITY, startBoss } from '../../src/queue/boss.js';
import { newId } from '../../src/ids.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitUntil } from '../helpers/sink.js';

let boss: PgBoss;
let pool: pg.Pool;

beforeAll(async () => {
  const url = await createTestDatabase();
  boss = await startBoss({ databaseUrl: url, poolSize: 2 });
  pool = new pg.Pool({ connectionString: url, max: 2 });
});

afterAll(async () => {
  await boss.stop({ graceful: false });
  await pool.end();
});

/** The real queue, its fetch held back 300 ms after it read the queue (`fetching` set meanwhile). */
let fetching: (() => void) | undefined;
function slowFetch(): PgBoss {
  return new Proxy(boss, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      // pg-boss keeps private fields: its methods run on the real instance.
      if (key !== 'fetch') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (...args: Parameters<PgBoss['fetch']>) => {
        const jobs = await target.fetch(...args);
        await new Promise<void>((resolve) => {
          fetching = resolve;
          setTimeout(resolve, 300);
        });
        fetching = undefined;
        return jobs;
      };
    },
  });
}

describe('LanePump wake-ups', () => {
  it('a wake-up that arrives while a fetch is under way fetches again when it returns, not at the next poll', async () => {
    const slow = slowFetch();
    const handled: string[] = [];
    const pump = new LanePump(slow, pool, { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: 4, reserve: 1, pollMs: 60_000 }, {
      claim: async () => undefined,
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
      await boss.insert(DELIVERY_QUEUE, [deliveryJob(deliveryId, 1, newId(), 10)]);
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
    const pump = new LanePump(slowFetch(), pool, { queue: DELIVERY_QUEUE, priority: FIRST_TRY_PRIORITY, capacity: 4, reserve: 1, pollMs: 60_000 }, {
      claim: async () => undefined,
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
});
