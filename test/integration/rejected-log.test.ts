import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectedLog, type Rejection } from '../../src/ingest/rejected-log.js';
import { createLogger } from '../../src/log.js';
import { rejectedLogDropped } from '../../src/metrics.js';
import { createTestDatabase } from '../helpers/database.js';

/** The rejected-request log's own bounds, against a real table: rows per second and buckets held. */
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 2 });
});

afterAll(async () => {
  await pool.end();
});

function refusal(address: string): Rejection {
  return { sourceId: null, slug: 'nope', reason: 'SOURCE_NOT_FOUND', message: 'no such source', status: 404, bodyBytes: 10, remoteAddress: address };
}

async function rows(): Promise<{ n: number; total: number }> {
  const { rows: [row] } = await pool.query<{ n: number; total: number }>('select count(*)::int as n, coalesce(sum(count), 0)::int as total from rejected_request');
  return row!;
}

describe('rejected-request log bounds', () => {
  it('writes at most its share of rowsPerSecond per flush, and the rest on later flushes', async () => {
    await pool.query('delete from rejected_request');
    const log = new RejectedLog(pool, createLogger('silent'), { rowsPerSecond: 20, maxBuckets: 1000, flushEveryMs: 250 });
    // 12 buckets (one per address), 3 refusals each.
    for (let i = 0; i < 12; i++) for (let n = 0; n < 3; n++) log.record(refusal(`198.51.100.${i}`));
    await log.flush();
    expect(await rows()).toEqual({ n: 5, total: 15 }); // 20 rows/s × 250 ms
    await log.flush();
    await log.flush();
    expect(await rows()).toEqual({ n: 12, total: 36 });
    await log.stop();
  });

  it('drops (and counts) refusals that would open a bucket past maxBuckets, never growing without bound', async () => {
    await pool.query('delete from rejected_request');
    const log = new RejectedLog(pool, createLogger('silent'), { rowsPerSecond: 1000, maxBuckets: 4, flushEveryMs: 1000 });
    const dropped = (await rejectedLogDropped.get()).values[0]?.value ?? 0;
    for (let i = 0; i < 10; i++) log.record(refusal(`203.0.113.${i}`));
    // An existing bucket still counts while the log is full.
    log.record(refusal('203.0.113.0'));
    await log.flush();
    expect(await rows()).toEqual({ n: 4, total: 5 });
    expect(((await rejectedLogDropped.get()).values[0]?.value ?? 0) - dropped).toBe(6);
    await log.stop();
  });
});
