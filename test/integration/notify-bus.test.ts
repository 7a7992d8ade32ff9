import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineChannel, MAX_NOTIFY_PAYLOAD_BYTES, type Channel } from '../../src/db/notify/channels.js';
import { NotifyBus, type NotifyBusLog, type NotifyBusOptions } from '../../src/db/notify/notify-bus.js';
import { notify } from '../../src/db/notify/send.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitUntil } from '../helpers/sink.js';

let databaseUrl: string;
let sender: pg.Client;
const buses: NotifyBus[] = [];
const proxies: Proxy[] = [];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  sender = new pg.Client({ connectionString: databaseUrl });
  await sender.connect();
});

afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

afterAll(async () => {
  await sender.end();
});

interface LogEntry {
  level: 'warn' | 'info' | 'debug';
  msg: string | undefined;
}

function recordingLog(entries: LogEntry[]): NotifyBusLog {
  return {
    warn: (_obj, msg) => entries.push({ level: 'warn', msg }),
    info: (_obj, msg) => entries.push({ level: 'info', msg }),
    debug: (_obj, msg) => entries.push({ level: 'debug', msg }),
  };
}

function newBus(options: Partial<NotifyBusOptions> = {}): NotifyBus {
  const bus = new NotifyBus({ connectionString: databaseUrl, ...options });
  buses.push(bus);
  return bus;
}

/** A channel of this file, whose entries are plain text. */
function text(name: string): Channel<string> {
  return defineChannel<string>({ name, encode: (entry) => entry, decode: (entry) => entry });
}

/** Sends one entry, as every producer does: through the one send function. */
function send(channel: string, entry: string): Promise<void> {
  return notify(sender, text(channel), [entry]);
}

/** Collects the entries of one channel. */
function collect(bus: NotifyBus, channel: string): { payloads: string[]; unsubscribe: () => void } {
  const payloads: string[] = [];
  const unsubscribe = bus.subscribe(text(channel), {
    receive: (entries) => {
      payloads.push(...entries);
    },
    resync: null,
  });
  return { payloads, unsubscribe };
}

/** Counts the resyncs of one consumer. */
function counting(bus: NotifyBus, channel: string): { resyncs: number; unsubscribe: () => void } {
  const consumer = { resyncs: 0, unsubscribe: () => {} };
  consumer.unsubscribe = bus.subscribe(text(channel), { receive: () => {}, resync: () => void consumer.resyncs++ });
  return consumer;
}

function received(payloads: string[], payload: string, what: string): Promise<true> {
  return waitUntil(() => (payloads.includes(payload) ? true : undefined), 20_000, what);
}

/** Backends of notify buses in this file's database (the default application_name). */
async function busBackends(): Promise<number[]> {
  const { rows } = await sender.query<{ pid: number }>(
    `select pid from pg_stat_activity where application_name = 'hookyard-notify-bus' and datname = current_database()`,
  );
  return rows.map((row) => row.pid);
}

/**
 * Records the timers set while installed, so a test can ask which are still pending. The bus
 * looks `setTimeout` up when it calls it, so swapping the global reaches its timers too.
 */
function trackTimers(): { pending(): NodeJS.Timeout[]; restore(): void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<NodeJS.Timeout>();
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSet((...passed: unknown[]) => {
      live.delete(handle);
      callback(...passed);
    }, ms, ...args);
    live.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle?: NodeJS.Timeout | string | number) => {
    if (typeof handle === 'object') live.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout;
  return {
    // Unref'd timers (pg's connect timeout) never keep a process alive.
    pending: () => [...live].filter((handle) => handle.hasRef()),
    restore: () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

/**
 * A TCP hop between the bus and PostgreSQL, to play the network: freeze a connection without
 * closing it (a half-open socket), cut every connection, or refuse new ones.
 */
interface Proxy {
  url: string;
  /** Connections accepted or refused so far. */
  attempts: number;
  refuseNew: boolean;
  freezeOpen(): void;
  cutOpen(): void;
  openCount(): number;
  close(): Promise<void>;
}

interface Pair {
  downstream: Socket;
  upstream: Socket;
  frozen: boolean;
}

async function startProxy(targetUrl: string): Promise<Proxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<Pair>();
  const server: Server = createServer((downstream) => {
    proxy.attempts++;
    if (proxy.refuseNew) {
      downstream.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    const pair: Pair = { downstream, upstream, frozen: false };
    pairs.add(pair);
    downstream.on('data', (chunk: Buffer) => {
      if (!pair.frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.frozen) downstream.write(chunk);
    });
    const close = (): void => {
      downstream.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const socket of [downstream, upstream]) {
      socket.on('close', close);
      socket.on('error', close);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  const proxy: Proxy = {
    url: url.toString(),
    attempts: 0,
    refuseNew: false,
    freezeOpen: () => pairs.forEach((pair) => (pair.frozen = true)),
    cutOpen: () => pairs.forEach((pair) => pair.downstream.destroy()),
    openCount: () => pairs.size,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cutOpen();
        server.close(() => resolve());
      }),
  };
  proxies.push(proxy);
  return proxy;
}

describe('NotifyBus', () => {
  it('delivers a NOTIFY sent from another connection to a subscriber', async () => {
    const bus = newBus();
    const { payloads } = collect(bus, 'delivery_status');
    await bus.start();
    expect(bus.connected).toBe(true);

    await send('delivery_status', 'd1:SUCCEEDED:1');
    await received(payloads, 'd1:SUCCEEDED:1', 'the notification');
    expect(payloads).toEqual(['d1:SUCCEEDED:1']);
  });

  it('delivers a notification only once its transaction commits', async () => {
    const bus = newBus();
    const { payloads } = collect(bus, 'tx_channel');
    await bus.start();

    await sender.query('begin');
    await send('tx_channel', 'rolled-back');
    await sender.query('rollback');
    await sender.query('begin');
    await send('tx_channel', 'committed');
    await sender.query('commit');
    await received(payloads, 'committed', 'the committed notification');
    expect(payloads).toEqual(['committed']);
  });

  it('stops delivering to a listener after it unsubscribes', async () => {
    const bus = newBus();
    const gone = collect(bus, 'unsub_channel');
    const stays = collect(bus, 'unsub_channel');
    await bus.start();

    await send('unsub_channel', 'first');
    await received(gone.payloads, 'first', 'first at the leaving listener');
    await received(stays.payloads, 'first', 'first at the staying listener');

    gone.unsubscribe();
    gone.unsubscribe(); // twice is harmless
    await send('unsub_channel', 'second');
    // Both listeners hang off one dispatch, so once `second` reached the one that stayed,
    // the one that left would have had it too.
    await received(stays.payloads, 'second', 'second at the staying listener');
    expect(gone.payloads).toEqual(['first']);
    expect(stays.payloads).toEqual(['first', 'second']);
  });

  it('keeps channels apart', async () => {
    const bus = newBus();
    const alpha = collect(bus, 'alpha');
    const beta = collect(bus, 'beta');
    await bus.start();

    await send('alpha', 'a1');
    await send('beta', 'b1');
    await send('alpha', 'a2');
    // One sending session: PostgreSQL delivers in commit order, so a2 arrives last.
    await received(alpha.payloads, 'a2', 'a2 on alpha');
    expect(alpha.payloads).toEqual(['a1', 'a2']);
    expect(beta.payloads).toEqual(['b1']);
  });

  it('survives listeners that throw or reject', async () => {
    const log: LogEntry[] = [];
    const bus = newBus({ log: recordingLog(log) });
    bus.subscribe(text('faulty'), {
      receive: () => {
        throw new Error('listener bug');
      },
      resync: null,
    });
    bus.subscribe(text('faulty'), {
      receive: async () => {
        throw new Error('async listener bug');
      },
      resync: null,
    });
    const healthy = collect(bus, 'faulty');
    await bus.start();

    await send('faulty', 'one');
    await send('faulty', 'two');
    await received(healthy.payloads, 'two', 'two at the healthy listener');
    expect(healthy.payloads).toEqual(['one', 'two']);
    await waitUntil(() => (log.filter((entry) => entry.msg === 'notification consumer failed').length >= 4 ? true : undefined), 5_000, 'four logged listener failures');
    expect(bus.connected).toBe(true);
  });

  it('reconnects by itself after its backend is terminated, and LISTENs again', async () => {
    const log: LogEntry[] = [];
    const bus = newBus({ log: recordingLog(log) });
    const early = collect(bus, 'status_early');
    const first = counting(bus, 'status_early');
    bus.subscribe(text('status_early'), {
      receive: () => {},
      resync: () => {
        throw new Error('a consumer that fails to reload must not stop the others');
      },
    });
    const gone = counting(bus, 'status_gone');
    gone.unsubscribe();
    await bus.start();
    // Subscribed while running: its LISTEN must be repeated on the new connection too.
    const late = collect(bus, 'status_late');
    const lateConsumer = counting(bus, 'status_late');
    expect(first.resyncs).toBe(0); // not after the first start()

    const [before] = await waitUntil(async () => {
      const pids = await busBackends();
      return pids.length === 1 ? pids : undefined;
    }, 20_000, 'the bus backend in pg_stat_activity');
    await sender.query('select pg_terminate_backend($1)', [before]);

    await waitUntil(() => (first.resyncs >= 1 && bus.connected ? true : undefined), 20_000, 'the resyncs after pg_terminate_backend');
    // Every consumer subscribed at the reconnect resyncs once, whenever it subscribed; a
    // consumer that left does not, and one that throws does not stop the others.
    expect([first.resyncs, lateConsumer.resyncs, gone.resyncs]).toEqual([1, 1, 0]);
    const after = await busBackends();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(log.some((entry) => entry.level === 'warn' && entry.msg === 'notify bus connection lost; reconnecting')).toBe(true);

    await send('status_early', 'after-early');
    await send('status_late', 'after-late');
    await received(early.payloads, 'after-early', 'a NOTIFY on the first channel after the reconnect');
    await received(late.payloads, 'after-late', 'a NOTIFY on the late channel after the reconnect');
  });

  it('detects a silently dead connection by its heartbeat and reconnects', async () => {
    const proxy = await startProxy(databaseUrl);
    const bus = newBus({ connectionString: proxy.url, heartbeatMs: 100, heartbeatTimeoutMs: 300 });
    const channel = collect(bus, 'silent_drop');
    const consumer = counting(bus, 'silent_drop');
    await bus.start();
    expect(proxy.attempts).toBe(1);

    // Nothing closes: bytes just stop flowing, as behind a NAT that forgot the connection.
    proxy.freezeOpen();
    await waitUntil(() => (consumer.resyncs >= 1 && bus.connected ? true : undefined), 20_000, 'a heartbeat-driven reconnect');
    expect(proxy.attempts).toBeGreaterThanOrEqual(2);

    await send('silent_drop', 'after');
    await received(channel.payloads, 'after', 'a NOTIFY after the heartbeat reconnect');
  });

  it('keeps retrying while the database is unreachable, and stop() leaves no timer or socket behind', async () => {
    const timers = trackTimers();
    try {
      const proxy = await startProxy(databaseUrl);
      const bus = newBus({ connectionString: proxy.url, maxBackoffMs: 200 });
      collect(bus, 'unreachable');
      await bus.start();

      proxy.refuseNew = true;
      proxy.cutOpen();
      // Stop while a reconnect timer is pending, not while an attempt happens to be in flight;
      // while disconnected the bus holds no other timer.
      await waitUntil(
        () => (proxy.attempts >= 3 && timers.pending().length > 0 ? true : undefined),
        20_000,
        'a pending reconnect timer after two refused attempts',
      );
      expect(bus.connected).toBe(false);

      await bus.stop();
      expect(bus.connected).toBe(false);
      expect(timers.pending()).toEqual([]);
      expect(proxy.openCount()).toBe(0);
    } finally {
      timers.restore();
    }
  });

  it('stop() ends the backend and the bus stays down', async () => {
    const bus = newBus();
    collect(bus, 'stopping');
    await bus.start();
    await waitUntil(async () => ((await busBackends()).length === 1 ? true : undefined), 20_000, 'the bus backend');

    await bus.stop();
    await bus.stop(); // twice is harmless
    expect(bus.connected).toBe(false);
    await waitUntil(async () => ((await busBackends()).length === 0 ? true : undefined), 20_000, 'the bus backend to leave');
    await expect(bus.start()).rejects.toThrow(/only once/);
  });

  it('rejects start() when the first connection fails, without retrying behind the caller', async () => {
    const timers = trackTimers();
    try {
      const proxy = await startProxy(databaseUrl);
      proxy.refuseNew = true;
      const bus = newBus({ connectionString: proxy.url });
      await expect(bus.start()).rejects.toThrow();
      expect(bus.connected).toBe(false);
      expect(timers.pending()).toEqual([]);
      expect(proxy.attempts).toBe(1);
    } finally {
      timers.restore();
    }
  });

  it('validates channel names and payload sizes', async () => {
    const bus = newBus();
    expect(() => text('Upper')).toThrow(RangeError);
    expect(() => text('x; drop table event')).toThrow(RangeError);
    expect(() => text('a'.repeat(64))).toThrow(RangeError);
    expect(() => text('a'.repeat(63))).not.toThrow();
    // A channel built without defineChannel is checked before its name reaches a statement.
    const forged: Channel<string> = { name: 'x"; drop table event; --', encode: (e) => e, decode: (e) => e };
    expect(() => bus.subscribe(forged, { receive: () => {}, resync: null })).toThrow(RangeError);
    await expect(send('sizes', 'é'.repeat(MAX_NOTIFY_PAYLOAD_BYTES / 2 + 1))).rejects.toThrow(/exceeds/);

    const { payloads } = collect(bus, 'sizes');
    await bus.start();
    const largest = 'x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES);
    await send('sizes', largest);
    await received(payloads, largest, 'the largest allowed payload');
  });
});
