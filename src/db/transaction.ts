import type { Pool, PoolClient } from 'pg';
import { HeldConnection } from './held-connection.js';

/**
 * A pooled connection for `work`, with an 'error' listener while it is checked out: pg-pool
 * listens only to idle clients, and a server that ends the connection between two statements
 * (a PostgreSQL restart) emits an 'error' that, unheard, takes the process down. A connection
 * that failed is destroyed on release, never handed out again.
 */
export async function withClient<T>(source: Pool | HeldConnection, work: (client: PoolClient) => Promise<T>): Promise<T> {
  if (source instanceof HeldConnection) return source.use(work);
  const pool = source;
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure = error;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } finally {
    // A healthy client goes back to the pool, which listens to it while idle; a failed one is
    // destroyed and keeps this listener, since its socket may still report a second error.
    if (!failure) client.off('error', onError);
    client.release(failure);
  }
}

export interface TransactionOptions {
  /**
   * `statement_timeout` for the transaction's statements, set with its `begin` in one round
   * trip (a hot path's transaction pays per statement sent).
   */
  statementTimeoutMs?: number;
  /**
   * Read only, every statement from the snapshot of the first (REPEATABLE READ): for reads of
   * several statements that must agree with each other.
   */
  oneSnapshot?: boolean;
}

/** `statement_timeout` for a transaction that must end by `deadline` (ms since the epoch; Infinity: none). */
export function transactionBound(deadline: number): TransactionOptions {
  return deadline === Infinity ? {} : { statementTimeoutMs: Math.ceil(Math.max(1, deadline - Date.now())) };
}

/** Runs `work` in one transaction on one pooled connection (or the held one); rolls back on any throw. */
export function inTransaction<T>(pool: Pool | HeldConnection, work: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const timeout = options.statementTimeoutMs;
  // Two statements in one simple query: no parameters, so the number is checked here.
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) throw new RangeError(`statement timeout must be a positive integer of ms, not ${timeout}`);
  const start = options.oneSnapshot ? 'begin isolation level repeatable read read only' : 'begin';
  const begin = timeout === undefined ? start : `${start}; set local statement_timeout = ${timeout}`;
  return withClient(pool, async (client) => {
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  });
}

/** A pipelined transaction whose commit PostgreSQL answered with a rollback: a statement sent before it failed. */
export class RolledBackError extends Error {
  constructor(answer: string) {
    super(`the transaction was rolled back (its commit was answered ${answer}): a statement sent before the commit failed`);
    this.name = 'RolledBackError';
  }
}

/**
 * As `inTransaction`, on a connection in pipeline mode (db/pools.ts `createLanePool`): `work`
 * sends its statements without waiting for the answers to those before (the begin goes with
 * them), and returns a promise for each chain of statements it started. The commit goes once
 * every chain has settled, a rollback instead if one failed: never earlier, or a statement a
 * chain sends later would run outside the transaction. Statements run in the order sent, so
 * one a chain sends after another chain's first sees that one's writes. A chain may settle
 * with its last statement sent and unanswered, so the commit follows it in the same round
 * trip; if that statement fails, PostgreSQL answers the commit with a rollback, and this
 * throws `RolledBackError` (the chain's own promise for it then holds the reason).
 */
export function inPipelinedTransaction<T extends readonly unknown[]>(pool: Pool | HeldConnection, work: (client: PoolClient) => { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  return withClient(pool, async (client) => {
    const begun = client.query('begin');
    let chains: readonly Promise<unknown>[];
    try {
      chains = work(client);
    } catch (error) {
      await begun.catch(() => {});
      await client.query('rollback').catch(() => {});
      throw error;
    }
    const settled = await Promise.allSettled([begun, ...chains]);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      await client.query('rollback').catch(() => {});
      throw failed.reason;
    }
    const { command } = await client.query('commit');
    if (command !== 'COMMIT') throw new RolledBackError(command);
    return settled.slice(1).map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
  });
}
