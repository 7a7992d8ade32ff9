import type { Pool, PoolClient } from 'pg';

/**
 * A pooled connection for `work`, with an 'error' listener while it is checked out: pg-pool
 * listens only to idle clients, and a server that ends the connection between two statements
 * (a PostgreSQL restart) emits an 'error' that, unheard, takes the process down. A connection
 * that failed is destroyed on release, never handed out again.
 */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
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

/** Runs `work` in one transaction on one pooled connection; rolls back on any throw. */
export function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  });
}
