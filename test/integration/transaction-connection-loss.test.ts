import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeldConnection } from '../../src/db/held-connection.js';
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

describe('a held connection (a delivery lane\'s) when the server ends it', () => {
  const terminate = async (pid: number) => {
    const admin = new pg.Client({ connectionString: pool.options.connectionString });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();
  };
  const pidOn = async (held: HeldConnection) => held.use(async (client) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);

  it('keeps one connection between uses, and after the server ended it, idle or under a transaction, the next use has a fresh one; never a crash', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const held = new HeldConnection(pool);
    try {
      const first = await pidOn(held);
      expect(await pidOn(held)).toBe(first);
      // Ended while idle between turns: the 'error' is heard, and the next use checks out another.
      await terminate(first);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const second = await pidOn(held);
      expect(second).not.toBe(first);
      // Ended under a transaction: pg reports it on the statement alone.
      await expect(inTransaction(held, async (client) => {
        await terminate(second);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('select 1');
      })).rejects.toThrow();
      const third = await pidOn(held);
      expect([first, second]).not.toContain(third);
      expect(uncaught).toEqual([]);
    } finally {
      held.release();
      process.off('uncaughtException', onUncaught);
    }
  });
});
