import pg, { type Pool } from 'pg';
import type { Logger } from '../log.js';

export interface PoolSizes {
  /** Ingest and workers: connections the API can never take. */
  core: number;
  /** GraphQL reads and mutations. */
  api: number;
}

/**
 * Splits the per-process total between the API and the rest. A process without the API
 * keeps one API connection's worth for the ORM (tools and tests use it), opened only on use.
 */
export function poolSizes(total: number, apiConnections: number, serveApi: boolean): PoolSizes {
  return serveApi ? { core: total - apiConnections, api: apiConnections } : { core: total - 1, api: 1 };
}

/** The pool ingest and workers share. Idle clients that die (a database restart) are replaced, never fatal. */
export function createCorePool(databaseUrl: string, size: number, log: Logger): Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: size, connectionTimeoutMillis: 3000, application_name: 'hookyard' });
  pool.on('error', (error) => log.warn({ err: error }, 'an idle database connection failed'));
  return pool;
}

/**
 * Ingest's commits (events/accept-batcher.ts): one connection, as one group commit is in flight
 * at a time, of its own because a batch written in one statement bounds it with a session-level
 * `statement_timeout` that must reach no one else's statements.
 */
export function createIngestPool(databaseUrl: string, log: Logger): Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 3000, application_name: 'hookyard-ingest' });
  pool.on('error', (error) => log.warn({ err: error }, 'an idle ingest database connection failed'));
  return pool;
}

/**
 * The worker's delivery lanes (delivery/lane-pump.ts): a connection per lane, in pipeline mode,
 * so a turn sends its begin, its outcomes and its fetch at once, then its claim and commit, and
 * waits twice where it waited six times (each wait, on a worker busy with a hundred requests,
 * cost a turn about 2.7 ms: bench/README, issue 13). Of its own because pipeline mode is the
 * connection's.
 */
export function createLanePool(databaseUrl: string, lanes: number, log: Logger): Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: lanes, pipeline: true, connectionTimeoutMillis: 3000, application_name: 'hookyard-lanes' });
  pool.on('error', (error) => log.warn({ err: error }, 'an idle delivery lane database connection failed'));
  return pool;
}
