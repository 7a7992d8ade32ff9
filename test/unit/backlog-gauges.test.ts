import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capRelays, OTHER_RELAYS, type Backlog, type StatusCount } from '../../src/delivery/backlog.js';
import { BacklogGauges } from '../../src/delivery/backlog-gauges.js';
import { createLogger } from '../../src/log.js';
import { deliveriesByStatus, registry } from '../../src/metrics.js';

describe('capRelays', () => {
  it.each<[string, StatusCount[], number, StatusCount[]]>([
    ['keeps every relay when there are few', [{ relay: 'a', status: 'PENDING', count: 1 }], 2, [{ relay: 'a', status: 'PENDING', count: 1 }]],
    [
      'keeps the busiest by total over statuses and sums the rest per status',
      [
        { relay: 'a', status: 'PENDING', count: 1 }, { relay: 'a', status: 'DEAD', count: 5 },
        { relay: 'b', status: 'PENDING', count: 4 }, { relay: 'c', status: 'PENDING', count: 2 }, { relay: 'c', status: 'HELD', count: 1 },
      ],
      1,
      [
        { relay: 'a', status: 'PENDING', count: 1 }, { relay: 'a', status: 'DEAD', count: 5 },
        { relay: OTHER_RELAYS, status: 'PENDING', count: 6 }, { relay: OTHER_RELAYS, status: 'HELD', count: 1 },
      ],
    ],
    [
      'breaks ties by id, so the kept set does not flap',
      [{ relay: 'b', status: 'PENDING', count: 1 }, { relay: 'a', status: 'PENDING', count: 1 }],
      1,
      [{ relay: 'a', status: 'PENDING', count: 1 }, { relay: OTHER_RELAYS, status: 'PENDING', count: 1 }],
    ],
  ])('%s', (_name, counts, top, expected) => {
    expect(capRelays(counts, top)).toEqual(expected);
  });

  it('makes at most top + 1 relay values per status for a thousand relays', () => {
    const counts = Array.from({ length: 1000 }, (_, i) => ({ relay: `r${i}`, status: 'PENDING', count: i + 1 }));
    const capped = capRelays(counts, 20);
    expect(capped).toHaveLength(21);
    expect(capped.reduce((sum, c) => sum + c.count, 0)).toBe(counts.reduce((sum, c) => sum + c.count, 0));
    expect(capped.find((c) => c.relay === 'r999')?.count).toBe(1000);
  });
});

describe('BacklogGauges', () => {
  const backlog = (pending: number): Backlog => ({
    deliveries: [{ relay: 'a', status: 'PENDING', count: pending }], lanes: [], retriesScheduled: 0, relaysDisabled: 0,
  });

  it('reads the database once per interval however many scrapes arrive, and once at a time', async () => {
    let now = 0;
    let reads = 0;
    let release = () => {};
    const gauges = new BacklogGauges({
      read: async () => {
        reads++;
        await new Promise<void>((resolve) => (release = resolve));
        return backlog(reads);
      },
      topRelays: 20, refreshMs: 5000, log: createLogger('silent'), now: () => now,
    });
    const flood = Array.from({ length: 200 }, () => gauges.update());
    release();
    await Promise.all(flood);
    expect(reads).toBe(1);
    now = 4999;
    await Promise.all(Array.from({ length: 200 }, () => gauges.update()));
    expect(reads).toBe(1);
    now = 5000;
    const next = gauges.update();
    release();
    await next;
    expect(reads).toBe(2);
    expect((await deliveriesByStatus.get()).values.find((v) => v.labels.relay === 'a')?.value).toBe(2);
  });

  it('keeps the previous figures when a read fails, and waits for the interval before trying again', async () => {
    let now = 0;
    let reads = 0;
    const gauges = new BacklogGauges({
      read: async () => {
        reads++;
        if (reads === 2) throw new Error('database down');
        return backlog(7);
      },
      topRelays: 20, refreshMs: 1000, log: createLogger('silent'), now: () => now,
    });
    await gauges.update();
    now = 1000;
    await gauges.update();
    await gauges.update();
    expect(reads).toBe(2);
    expect((await deliveriesByStatus.get()).values.find((v) => v.labels.relay === 'a')?.value).toBe(7);
  });
});

describe('README "Metrics"', () => {
  it('names every metric Hookyard defines (Node\'s process metrics aside), and no other', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('\n### Metrics\n');
    expect(start, 'README has a "### Metrics" section').toBeGreaterThanOrEqual(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start));
    const named = new Set([...section.matchAll(/`(hookyard_[a-z_]+)[`{]/g)].map((m) => m[1]!));
    const defined = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => !/^hookyard_(process|nodejs)_/.test(name));
    expect(defined.filter((name) => !named.has(name))).toEqual([]);
    expect([...named].filter((name) => !defined.includes(name))).toEqual([]);
  });
});
