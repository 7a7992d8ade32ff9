import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterLines, settleLines, sweepLines } from '../../src/delivery/ordering/lines.js';
import { newId } from '../../src/ids.js';
import { pruneOnce } from '../../src/maintenance/retention.js';
import { startBoss } from '../../src/queue/boss.js';
import { createTestDatabase } from '../helpers/database.js';

/**
 * The lines of ordered delivery (delivery/ordering/lines.ts) at the SQL level: concurrent
 * entries, the backstop sweep, and retention around a line's head. The end-to-end behaviour is
 * test/integration/ordered-delivery.test.ts and the chaos scenario.
 */

let pool: pg.Pool;
let boss: PgBoss;
let relayId: string;
let eventId: string;

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  pool = new pg.Pool({ connectionString: databaseUrl, max: 6 });
  boss = await startBoss({ databaseUrl, poolSize: 2 });
  relayId = newId();
  await pool.query(`insert into relay (id, name, url, signing_secret_sealed, signing_secret_hint) values ($1, 'r', 'https://example.com/hook', 'sealed', 'whsec_…')`, [relayId]);
  eventId = newId();
  await pool.query(`insert into event (id, type, body) values ($1, 'test.event', '\\x7b7d')`, [eventId]);
});

afterAll(async () => {
  await boss.stop({ graceful: false });
  await pool.end();
});

async function inTx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

async function delivery(key: string, status: string, position: number | null, createdAt = new Date()): Promise<string> {
  const id = newId();
  await pool.query(
    `insert into delivery (id, event_id, relay_id, status, attempt_count, ordering_key, ordering_position, created_at, updated_at) values ($1, $2, $3, $4, 0, $5, $6, $7, $7)`,
    [id, eventId, relayId, status, key, position, createdAt],
  );
  return id;
}

async function line(key: string): Promise<{ head_id: string | null; last_position: string } | undefined> {
  return (await pool.query<{ head_id: string | null; last_position: string }>('select head_id, last_position::text from ordering_line where relay_id = $1 and key = $2', [relayId, key])).rows[0];
}

const jobsFor = async (deliveryId: string) => (await pool.query(`select 1 from pgboss.job where data->>'deliveryId' = $1`, [deliveryId])).rowCount;

describe('enterLines', () => {
  it('gives concurrent entrants of one key distinct places in commit order, and one head', async () => {
    const ids = Array.from({ length: 20 }, () => newId());
    // Twenty transactions at once, each entering one delivery; the line row serialises them.
    const places = await Promise.all(ids.map((id) => inTx((client) => enterLines(client, [{ deliveryId: id, relayId, key: 'race' }]))));
    const positions = places.map((p, i) => Number(p.get(ids[i]!)!.position)).sort((a, b) => a - b);
    expect(positions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(places.filter((p, i) => p.get(ids[i]!)!.head)).toHaveLength(1);
    expect(await line('race')).toMatchObject({ last_position: '20' });
  });

  it('places a batch of one key in the order given, after those already in the line', async () => {
    const [a, b, c] = [newId(), newId(), newId()];
    const first = await inTx((client) => enterLines(client, [{ deliveryId: a, relayId, key: 'batch' }]));
    const rest = await inTx((client) => enterLines(client, [{ deliveryId: b, relayId, key: 'batch' }, { deliveryId: c, relayId, key: 'batch' }]));
    expect([first.get(a), rest.get(b), rest.get(c)]).toEqual([{ position: '1', head: true }, { position: '2', head: false }, { position: '3', head: false }]);
  });
});

describe('sweepLines', () => {
  it('moves on a line whose head finished without it, queueing the next, and deletes empty lines', async () => {
    const head = await delivery('stale', 'SUCCEEDED', 1);
    const next = await delivery('stale', 'PENDING', 2);
    await pool.query(`insert into ordering_line (relay_id, key, last_position, head_id, head_position) values ($1, 'stale', 2, $2, 1)`, [relayId, head]);
    await pool.query(`insert into ordering_line (relay_id, key, last_position, head_id, head_position) values ($1, 'empty', 4, null, 4)`, [relayId]);
    const held = await delivery('busy', 'RETRYING', 1);
    await pool.query(`insert into ordering_line (relay_id, key, last_position, head_id, head_position) values ($1, 'busy', 1, $2, 1)`, [relayId, held]);

    const swept = await sweepLines(pool, boss);
    // The lines entered above name deliveries this file never inserted: settled (emptied) too.
    expect(swept.linesSettled).toBeGreaterThanOrEqual(1);
    expect(swept.linesDeleted).toBeGreaterThanOrEqual(1);
    expect((await line('stale'))!.head_id).toBe(next);
    expect(await jobsFor(next)).toBe(1);
    expect(await line('empty')).toBeUndefined();
    expect((await line('busy'))!.head_id).toBe(held);
  });

  it('gives a head to a line left without one while its deliveries wait', async () => {
    const first = await delivery('stranded', 'PENDING', 1);
    await delivery('stranded', 'PENDING', 2);
    await pool.query(`insert into ordering_line (relay_id, key, last_position, head_id, head_position) values ($1, 'stranded', 2, null, 5)`, [relayId]);
    await sweepLines(pool, boss);
    expect((await line('stranded'))!.head_id).toBe(first);
    expect(await jobsFor(first)).toBe(1);
  });

  it('leaves a DEAD head holding its key under HOLD, and moves past it under CONTINUE', async () => {
    const dead = await delivery('dead', 'DEAD', 1);
    const waiting = await delivery('dead', 'PENDING', 2);
    await pool.query(`insert into ordering_line (relay_id, key, last_position, head_id, head_position) values ($1, 'dead', 2, $2, 1)`, [relayId, dead]);
    await pool.query(`update relay set ordering_on_dead = 'HOLD' where id = $1`, [relayId]);
    await inTx((client) => settleLines(client, boss, [{ relayId, key: 'dead' }]));
    expect((await line('dead'))!.head_id).toBe(dead);
    await pool.query(`update relay set ordering_on_dead = 'CONTINUE' where id = $1`, [relayId]);
    await inTx((client) => settleLines(client, boss, [{ relayId, key: 'dead' }]));
    expect((await line('dead'))!.head_id).toBe(waiting);
  });
});

describe('retention', () => {
  it('keeps a line\'s head however old, and prunes the finished deliveries around it', async () => {
    const old = new Date(Date.now() - 200 * 3_600_000);
    const heldHead = await delivery('kept', 'DEAD', 1, old);
    const finished = await delivery('kept-other', 'SUCCEEDED', 1, old);
    await pool.query(`insert into ordering_line (relay_id, key, last_position, head_id, head_position) values ($1, 'kept', 1, $2, 1)`, [relayId, heldHead]);
    await pruneOnce(pool, { retentionHours: 72, auditRetentionDays: 30 });
    const left = new Set((await pool.query<{ id: string }>('select id from delivery where id = any($1)', [[heldHead, finished]])).rows.map((r) => r.id));
    expect(left).toEqual(new Set([heldHead]));
  });
});
