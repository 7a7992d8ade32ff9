import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RelayRates } from '../../src/delivery/relay-rates.js';
import { createTestDatabase } from '../helpers/database.js';

/**
 * The limiter against real PostgreSQL. Two pools stand for two worker processes: they share
 * nothing but the database. Turns are PostgreSQL's send times (µs), so the one-second check is
 * exact, with no slack for jitter.
 */

let pools: pg.Pool[];

beforeAll(async () => {
  const url = await createTestDatabase();
  pools = [new pg.Pool({ connectionString: url, max: 2 }), new pg.Pool({ connectionString: url, max: 2 })];
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

async function newRelay(): Promise<string> {
  const id = randomUUID();
  await pools[0]!.query(`insert into relay (id, name, url, signing_secret_sealed, signing_secret_hint) values ($1, 'rated', 'http://receiver.test/', 'sealed', 'hint')`, [id]);
  return id;
}

/** Fails naming the span if any one-second span [t, t + 1 s) holds more than `perSecond` turns. */
function expectAtMost(perSecond: number, turnsUs: number[]): void {
  const sorted = [...turnsUs].sort((a, b) => a - b);
  for (const start of sorted) {
    const inSpan = sorted.filter((at) => at >= start && at < start + 1_000_000);
    expect(inSpan.length, `turns from ${start} µs`).toBeLessThanOrEqual(perSecond);
  }
}

describe('RelayRates', () => {
  it('never lets more than the rate through in any one-second span, across window edges', async () => {
    const rates = new RelayRates(pools[0]!);
    const relay = await newRelay();
    const signal = new AbortController().signal;
    const turns: number[] = [];
    const send = async () => turns.push((await rates.wait(relay, 5, signal))!);
    // One request, then nine late in its second: a fixed-window limiter lets four through at
    // the end of the first window and five at the start of the next, nine within 100 ms.
    await send();
    await new Promise((resolve) => setTimeout(resolve, 900));
    await Promise.all(Array.from({ length: 9 }, send));
    expect(turns).toHaveLength(10);
    expectAtMost(5, turns);
  });

  it('holds one budget for two processes sending at once, and each request waits for its turn', async () => {
    const relay = await newRelay();
    const [a, b] = pools.map((pool) => new RelayRates(pool));
    const signal = new AbortController().signal;
    const sent: { turnUs: number; leftUs: number }[] = [];
    // 24 requests at 10/s: more than the one-second booking horizon, so some are refused and ask again.
    await Promise.all(Array.from({ length: 24 }, async (_, i) => {
      const turnUs = (await (i % 2 ? a! : b!).wait(relay, 10, signal))!;
      sent.push({ turnUs, leftUs: Date.now() * 1000 });
    }));
    expect(sent).toHaveLength(24);
    expectAtMost(10, sent.map((s) => s.turnUs));
    // No request left before its turn (same machine, same clock; Date.now() is whole ms).
    for (const { turnUs, leftUs } of sent) expect(leftUs).toBeGreaterThanOrEqual(Math.floor(turnUs / 1000) * 1000);
  });

  it('keeps relays apart, and an unlimited relay never asks PostgreSQL', async () => {
    const rates = new RelayRates(pools[0]!);
    const [slow, fast] = [await newRelay(), await newRelay()];
    const signal = new AbortController().signal;
    const order: string[] = [];
    // slow's 3 requests take 1 s at 2/s; fast's 3 at 100/s and 100 unlimited ones do not wait for them.
    const slowDone = Promise.all(Array.from({ length: 3 }, () => rates.wait(slow, 2, signal))).then(() => order.push('slow'));
    await Promise.all(Array.from({ length: 3 }, () => rates.wait(fast, 100, signal)));
    order.push('fast');
    const query = vi.spyOn(pools[0]!, 'query');
    for (let i = 0; i < 100; i++) await rates.wait(randomUUID(), null, signal);
    expect(query).not.toHaveBeenCalled();
    query.mockRestore();
    order.push('unlimited');
    await slowDone;
    expect(order).toEqual(['fast', 'unlimited', 'slow']);
  });

  it('stops waiting when its signal aborts (shutdown)', async () => {
    const rates = new RelayRates(pools[0]!);
    const relay = await newRelay();
    const shutdown = new AbortController();
    await rates.wait(relay, 1, shutdown.signal);
    const waiting = rates.wait(relay, 1, shutdown.signal);
    shutdown.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
  });
});
