import type { Pool, PoolClient } from 'pg';

/**
 * One pooled connection kept checked out between uses, for a loop that runs one transaction
 * after another on it (a delivery lane, delivery/lane-pump.ts): checked out of the pool at
 * every turn, the turn's statements waited for pg-pool's hand-over on a later tick, behind
 * whatever a busy worker's event loop had queued (≈ 1.2 ms a turn, bench/README). It listens
 * for 'error' all the while it is held (pg-pool listens only to idle clients, and an unheard
 * 'error' takes the process down): a connection that failed is destroyed after the use under
 * way, or before the next use if it failed while idle, and that use checks out a fresh one.
 */
export class HeldConnection {
  private client: PoolClient | undefined;
  private failure: Error | undefined;
  private readonly onError = (error: Error) => {
    this.failure = error;
  };
  /** 'end' as well as 'error': a connection that ended is never used again, however pg reported it. */
  private readonly onEnd = () => {
    this.failure ??= new Error('the database connection ended');
  };

  constructor(private readonly pool: Pool) {}

  async use<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    // One that failed while idle is replaced before use.
    if (this.failure) this.release();
    const client = this.client ?? (await this.checkOut());
    try {
      return await work(client);
    } finally {
      if (this.failure) this.release();
    }
  }

  /** Gives the connection back to the pool (destroyed if it failed); the next use checks out another. */
  release(): void {
    const client = this.client;
    if (!client) return;
    const failure = this.failure;
    this.client = undefined;
    this.failure = undefined;
    // A failed one keeps the listener: its socket may still report a second error.
    client.off('end', this.onEnd);
    if (!failure) client.off('error', this.onError);
    client.release(failure);
  }

  private async checkOut(): Promise<PoolClient> {
    const client = await this.pool.connect();
    client.on('error', this.onError);
    client.on('end', this.onEnd);
    this.client = client;
    return client;
  }
}
