import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll } from 'vitest';
import { startBoss } from '../../src/queue/boss.js';
import { createTestDatabase } from './database.js';

/**
 * A pg-boss instance and a pool of two connections on a database of the calling test file's
 * own, started before its tests and stopped after them: for tests of the queue's statements
 * without a whole app.
 */
export function useBossAndPool(): { boss: () => PgBoss; pool: () => pg.Pool } {
  let boss: PgBoss | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    const url = await createTestDatabase();
    boss = await startBoss({ databaseUrl: url, poolSize: 2 });
    pool = new pg.Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await pool?.end();
  });
  return {
    boss: () => boss ?? fail('the boss starts in beforeAll'),
    pool: () => pool ?? fail('the pool starts in beforeAll'),
  };
}

function fail(message: string): never {
  throw new Error(message);
}
