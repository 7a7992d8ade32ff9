import pg from 'pg';
import { assertChannelName, ENTRY_SEPARATOR, type Channel } from './channels.js';

/** What the bus logs through; pino's `Logger` fits. */
export interface NotifyBusLog {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface NotifyBusOptions {
  connectionString: string;
  log?: NotifyBusLog;
  /** Pause between heartbeats (`select 1`) on an otherwise idle connection. Default 10 s. */
  heartbeatMs?: number;
  /** How long a heartbeat may take before the connection counts as dead. Default 5 s. */
  heartbeatTimeoutMs?: number;
  /** Cap of the reconnect backoff, which starts at 100 ms and doubles. Default 5 s. */
  maxBackoffMs?: number;
  /** Shown in `pg_stat_activity`, so operators (and tests) can find the listening backend. */
  applicationName?: string;
}

/**
 * One consumer of a channel. A notification sent while the LISTEN connection is down is gone
 * for good (PostgreSQL queues only for live listeners), so every consumer says what it does
 * after a reconnect: reload, re-read, wake up. A throw or a rejection of either is logged and
 * goes no further.
 */
export interface Consumer<T> {
  /** The entries of one notification, decoded. */
  receive(items: T[]): void | Promise<void>;
  /** Run after every reconnect (not after the first `start()`); null: it keeps nothing a missed notification could leave stale. */
  resync: (() => void | Promise<void>) | null;
}

const FIRST_BACKOFF_MS = 100;
/** A connect to a black-holed host would otherwise wait for the kernel's TCP timeout. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long `stop()` lets the server acknowledge a goodbye before cutting the socket. */
const GRACEFUL_END_MS = 1_000;

const silentLog: NotifyBusLog = { warn() {}, info() {}, debug() {} };

/** Checked again here: the name goes into the statement, and the quotes must hold it. */
function quoted(channel: Channel<unknown>): string {
  assertChannelName(channel.name);
  return `"${channel.name}"`;
}

/**
 * Full doubling up to the cap, then a random cut of up to half: replicas that lost the same
 * restarted server do not all knock on it in the same millisecond.
 */
function backoffMs(failures: number, maxBackoffMs: number): number {
  const ceiling = Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(failures, 30), maxBackoffMs);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** One connection attempt and everything that belongs to it. */
interface Link {
  client: pg.Client;
  /**
   * Statements run one after another: pg warns about queries queued behind a running one,
   * and the order keeps a quick UNLISTEN then LISTEN of one channel in that order.
   */
  tail: Promise<unknown>;
  /** Set once the socket failed or we gave the link up; a lost link is never used again. */
  lost: boolean;
}

/** The consumers of one channel; every consumer of a name shares one `Channel` to decode with. */
interface Listening {
  channel: Channel<unknown>;
  consumers: Set<Consumer<unknown>>;
}

/**
 * One dedicated connection that LISTENs on every subscribed channel (src/db/notify/channels.ts),
 * decodes each notification once and hands its entries to the channel's consumers in process.
 * After a reconnect it runs every consumer's `resync`: what was sent meanwhile is lost.
 */
export class NotifyBus {
  private readonly subscriptions = new Map<string, Listening>();
  private readonly log: NotifyBusLog;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly maxBackoffMs: number;
  private state: 'new' | 'running' | 'stopped' = 'new';
  /** The connected link that is listening on every channel. */
  private live: Link | undefined;
  /** A link still connecting or issuing its first LISTENs. */
  private opening: Link | undefined;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: NotifyBusOptions) {
    this.log = options.log ?? silentLog;
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 5_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  /** A getter, so TypeScript does not narrow `state` across the awaits that stop() can interleave. */
  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** Whether the connection is up and listening; false while reconnecting and after `stop()`. */
  get connected(): boolean {
    return this.live !== undefined;
  }

  /**
   * Connects and LISTENs on the channels subscribed so far. Rejects if that first attempt fails,
   * so a wrong URL shows at boot; a bus is started once, a failed one is replaced.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('a NotifyBus starts only once');
    this.state = 'running';
    try {
      await this.open();
    } catch (error) {
      if (this.stopped) return; // stop() during start() is not a failure
      this.state = 'stopped';
      throw error;
    }
  }

  /** Ends the connection; no reconnect follows and no timer is left behind. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    const links = [this.live, this.opening].filter((link): link is Link => link !== undefined);
    this.live = undefined;
    this.opening = undefined;
    await Promise.all(links.map((link) => endGracefully(link)));
  }

  /** Hands every notification on `channel` to `consumer` until the returned function is called. */
  subscribe<T>(channel: Channel<T>, consumer: Consumer<T>): () => void {
    const added = consumer as Consumer<unknown>;
    const listen = `listen ${quoted(channel)}`; // a bad name throws before anything is recorded
    let listening = this.subscriptions.get(channel.name);
    if (!listening) {
      listening = { channel: channel as Channel<unknown>, consumers: new Set() };
      this.subscriptions.set(channel.name, listening);
      this.command(listen);
    }
    listening.consumers.add(added);
    return () => {
      const current = this.subscriptions.get(channel.name);
      if (!current?.consumers.delete(added) || current.consumers.size > 0) return;
      this.subscriptions.delete(channel.name);
      this.command(`unlisten ${quoted(channel)}`);
    };
  }

  private async open(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName ?? 'hookyard-notify-bus',
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    const link: Link = { client, tail: Promise.resolve(), lost: false };
    // Without an 'error' listener a dropped socket would crash the process.
    client.on('error', (error: Error) => this.drop(link, error));
    client.on('end', () => this.drop(link, new Error('connection ended')));
    client.on('notification', (message: pg.Notification) => this.deliver(message.channel, message.payload ?? ''));
    this.opening = link;
    // Kept apart from `tail`: a subscribe() chained meanwhile makes `tail` swallow errors.
    const connecting = client.connect();
    link.tail = connecting;
    try {
      await connecting;
      const channels = [...this.subscriptions.values()];
      if (channels.length > 0) await this.run(link, channels.map((listening) => `listen ${quoted(listening.channel)}`).join('; '));
      // The socket can fail in the same read that answered our LISTEN, before we resume here.
      if (link.lost && this.state === 'running') throw new Error('connection lost while listening');
    } catch (error) {
      if (this.opening === link) this.opening = undefined;
      link.lost = true;
      destroy(link);
      throw error;
    }
    if (this.opening !== link) return; // stop() took it meanwhile
    this.opening = undefined;
    this.live = link;
    this.failures = 0;
    this.scheduleHeartbeat(link);
  }

  private run(link: Link, sql: string): Promise<unknown> {
    const result = link.tail.then(() => link.client.query(sql));
    link.tail = result.catch(() => {});
    return result;
  }

  /** LISTEN/UNLISTEN on the current link; a link opened later reads the channel set itself. */
  private command(sql: string): void {
    const link = this.live ?? this.opening;
    if (!link) return;
    this.run(link, sql).catch((error: unknown) => {
      if (link.lost) return; // the loss is handled where it was seen
      // A failed LISTEN leaves a subscriber deaf; a fresh connection re-issues them all.
      this.log.warn({ err: error, sql }, 'notify bus statement failed; reconnecting');
      this.drop(link, error);
    });
  }

  /** Gives up a failed link; a live one is replaced, an opening one is handled by `open()`. */
  private drop(link: Link, error: unknown): void {
    if (link.lost) return;
    link.lost = true;
    if (this.live !== link) return;
    this.live = undefined;
    clearTimeout(this.heartbeatTimer);
    destroy(link);
    if (this.state !== 'running') return;
    this.log.warn({ err: error }, 'notify bus connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state !== 'running' || this.reconnectTimer) return;
    const delayMs = backoffMs(this.failures++, this.maxBackoffMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delayMs);
  }

  private async reconnect(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      await this.open();
    } catch (error) {
      if (this.state !== 'running') return;
      this.log.warn({ err: error, failures: this.failures }, 'notify bus reconnect failed');
      this.scheduleReconnect();
      return;
    }
    if (!this.live) return;
    this.log.info({ channels: [...this.subscriptions.keys()] }, 'notify bus reconnected');
    for (const { channel, consumers } of [...this.subscriptions.values()]) {
      for (const consumer of [...consumers]) {
        if (consumer.resync) this.guard(channel, 'resync', () => consumer.resync?.());
      }
    }
  }

  private scheduleHeartbeat(link: Link): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(link), this.heartbeatMs);
  }

  /**
   * An idle LISTEN connection sends nothing, so a half-open socket (a NAT or firewall that
   * forgot us, a server host that vanished) would otherwise look healthy forever.
   */
  private async heartbeat(link: Link): Promise<void> {
    if (this.live !== link) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`heartbeat got no answer within ${this.heartbeatTimeoutMs} ms`)), this.heartbeatTimeoutMs);
    });
    try {
      await Promise.race([this.run(link, 'select 1'), timeout]);
    } catch (error) {
      this.drop(link, error);
      return;
    } finally {
      clearTimeout(timer);
    }
    this.log.debug({}, 'notify bus heartbeat');
    if (this.live === link) this.scheduleHeartbeat(link);
  }

  private deliver(name: string, payload: string): void {
    if (this.state !== 'running') return;
    const listening = this.subscriptions.get(name);
    if (!listening) return;
    const { channel, consumers } = listening;
    let items: unknown[];
    try {
      items = payload.split(ENTRY_SEPARATOR).map((entry) => channel.decode(entry));
    } catch (error) {
      this.log.warn({ err: error, channel: name }, 'notification payload could not be decoded; skipped');
      return;
    }
    for (const consumer of [...consumers]) {
      if (!consumers.has(consumer)) continue; // unsubscribed by an earlier consumer of this round
      this.guard(channel, 'receive', () => consumer.receive(items));
    }
  }

  /** A consumer's failure is logged and stops neither the bus nor the other consumers. */
  private guard(channel: Channel<unknown>, step: 'receive' | 'resync', run: () => void | Promise<void>): void {
    const failed = (error: unknown): void => this.log.warn({ err: error, channel: channel.name, step }, 'notification consumer failed');
    try {
      const result = run();
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}

/** Cuts the socket at once: `end()` alone waits for a goodbye a dead peer never sends. */
function destroy(link: Link): void {
  // end() first marks the close as ours, so pg does not report it as an unexpected error.
  link.client.end().catch(() => {});
  link.client.connection.stream.destroy();
}

async function endGracefully(link: Link): Promise<void> {
  link.lost = true;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, GRACEFUL_END_MS);
  });
  await Promise.race([link.client.end().catch(() => {}), deadline]);
  clearTimeout(timer);
  link.client.connection.stream.destroy();
}
