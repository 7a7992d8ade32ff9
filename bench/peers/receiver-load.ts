import pg from 'pg';
import { BODY } from '../floors.js';
import { GITHUB_SECRET, githubRequest } from '../lib/configure.js';
import { createEventTable } from '../lib/event-table.js';
import { closedLoop } from '../lib/load.js';
import { forkServer } from '../lib/processes.js';
import type { Plan } from '../plan.js';

export interface PeerIngestFigures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  connections: number;
}

/**
 * peer_ingest: bench/peers/ingest-receiver.ts under the load Hookyard's ingest figure takes
 * (bench/ingest.ts): the same GitHub-signed 1 KiB requests from the same closed-loop
 * generator over `plan.connections` keep-alive connections for `plan.loadMs`.
 */
export async function peerIngest(plan: Plan, databaseUrl: string): Promise<PeerIngestFigures> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await createEventTable(pool);
  await pool.end();
  const receiver = await forkServer('peers/ingest-receiver.js', { DATABASE_URL: databaseUrl, POOL_SIZE: String(plan.connections), GITHUB_SECRET });
  try {
    let seq = 0;
    const request = () => githubRequest('bench', BODY, `p-${seq++}-${process.pid}`);
    const max = await closedLoop(`http://127.0.0.1:${receiver.port}`, { connections: plan.connections, durationMs: plan.loadMs, request });
    return { rps: max.rps, p50_ms: max.p50_ms, p99_ms: max.p99_ms, errors: max.errors, connections: plan.connections };
  } finally {
    await receiver.stop();
  }
}
