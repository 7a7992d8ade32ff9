import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/transaction.js';
import { createTestDatabase } from '../helpers/database.js';

/**
 * A connection terminated by the server while a transaction holds it between statements (a
 * PostgreSQL restart): the transaction fails, the process does not crash on an 'error' event
 * nobody listens to, and the pool goes on with a fresh connection.
 */
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 2, application_name: 'hookyard-tx-test' });
  pool.on('error', () => {});
});

afterAll(async () => {
  await pool.end();
});

describe('inTransaction when the server ends the connection', () => {
  it('fails the transaction, never crashes the process, and the pool recovers', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const admin = new pg.Client({ connectionString: pool.options.connectionString });
      await admin.connect();
      const work = inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        // The server ends this backend while the transaction waits between statements.
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('select 1');
      });
      await expect(work).rejects.toThrow();
      await admin.end();
      const { rows } = await pool.query<{ one: number }>('select 1 as one');
      expect(rows[0]!.one).toBe(1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
