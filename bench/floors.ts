import pg from 'pg';
import { createEventTable, insertEvent } from './lib/event-table.js';
import { closedLoop, type LoadResult } from './lib/load.js';
import { forkServer } from './lib/processes.js';
import type { Plan } from './plan.js';

export const BODY = Buffer.from(JSON.stringify({ padding: 'x'.repeat(1000) }).slice(0, 1024));

/** http_floor: a bare node:http server, same generator and connections as ingest. */
export async function httpFloor(plan: Plan): Promise<LoadResult> {
  const server = await forkServer('http-floor-server.js');
  try {
    return await closedLoop(`http://127.0.0.1:${server.port}`, {
      connections: plan.connections,
      durationMs: plan.loadMs,
      request: () => ({ path: '/', headers: { 'content-type': 'application/json' }, body: BODY }),
    });
  } finally {
    await server.stop();
  }
}

/** send_floor: a bare keep-alive client posting the same bodies to the same sink. */
export async function sendFloor(plan: Plan): Promise<LoadResult> {
  const sink = await forkServer('sink-server.js', { RECORD: '0' });
  try {
    return await closedLoop(`http://127.0.0.1:${sink.port}`, {
      connections: plan.connections,
      durationMs: plan.loadMs,
      request: () => ({ path: '/hooks', headers: { 'content-type': 'application/json' }, body: BODY }),
    });
  } finally {
    await sink.stop();
  }
}

/** pg_floor: single-row INSERT commits into a table shaped like `event`, one per connection at a time. */
export async function pgFloor(plan: Plan, databaseUrl: string): Promise<{ commits_per_s: number; connections: number }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: plan.connections });
  await createEventTable(pool);
  let commits = 0;
  const start = performance.now();
  const deadline = start + plan.loadMs;
  await Promise.all(
    Array.from({ length: plan.connections }, async () => {
      while (performance.now() < deadline) {
        await insertEvent(pool, { type: 'push', idempotencyKey: crypto.randomUUID(), headers: { 'x-github-event': 'push' }, body: BODY });
        commits++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await pool.end();
  return { commits_per_s: Math.round(commits / elapsed), connections: plan.connections };
}
