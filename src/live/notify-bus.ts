import pg from 'pg';

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

/** Receives a notification's payload; a throw or a rejection is logged and goes no further. */
export type NotificationListener = (payload: string) => void | Promise<void>;

/** Channel names we accept: lower case, so the quoted `LISTEN` and `pg_notify($1)` agree. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** NOTIFY refuses payloads of 8000 bytes or more; the margin leaves room for the channel name. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7900;

const FIRST_BACKOFF_MS = 100;
/** A connect to a black-holed host would otherwise wait for the kernel's TCP timeout. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How long `stop()` lets the server acknowledge a goodbye before cutting the socket. */
const GRACEFUL_END_MS = 1_000;

const silentLog: NotifyBusLog = { warn() {}, info() {}, debug() {} };

export function assertChannel(channel: string): void {
  if (!CHANNEL_NAME.test(channel)) throw new RangeError(`invalid notification channel name: ${JSON.stringify(channel)}`);
}

function quoted(channel: string): string {
  assertChannel(channel);
  return `"${channel}"`;
}

/**
 * Notifies `channel` through the caller's client, so a notification sent inside a transaction
 * is only delivered if that transaction commits. Oversized payloads are a producer's bug: a
 * RangeError here rather than PostgreSQL's error aborting the producer's transaction.
 */
export async function notify(
  client: { query(text: string, values?: unknown[]): Promise<unknown> },
  channel: string,
  payload: string,
): Promise<void> {
  assertChannel(channel);
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) {
    throw new RangeError(`notification payload of ${bytes} bytes exceeds ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`);
  }
  await client.query('select pg_notify($1, $2)', [channel, payload]);
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

interface Subscription {
  listener: NotificationListener;
}

/**
 * One dedicated connection that LISTENs on every subscribed channel and fans notifications out
 * in process. A notification sent while the connection is down is gone for good (PostgreSQL
 * queues only for live listeners), so consumers reload their state in `onReconnect`.
 */
export class NotifyBus {
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  private readonly reconnectListeners = new Set<() => void>();
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

  /** Delivers every payload on `channel` to `listener` until the returned function is called. */
  subscribe(channel: string, listener: NotificationListener): () => void {
    assertChannel(channel);
    const subscription: Subscription = { listener };
    let set = this.subscriptions.get(channel);
    if (!set) {
      set = new Set();
      this.subscriptions.set(channel, set);
      this.command(`listen ${quoted(channel)}`);
    }
    set.add(subscription);
    return () => {
      const current = this.subscriptions.get(channel);
      if (!current?.delete(subscription) || current.size > 0) return;
      this.subscriptions.delete(channel);
      this.command(`unlisten ${quoted(channel)}`);
    };
  }

  /** Called after the connection came back and LISTENs again; not after the first `start()`. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
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
      const channels = [...this.subscriptions.keys()];
      if (channels.length > 0) await this.run(link, channels.map((channel) => `listen ${quoted(channel)}`).join('; '));
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
    for (const listener of [...this.reconnectListeners]) {
      try {
        listener();
      } catch (error) {
        this.log.warn({ err: error }, 'notify bus reconnect listener failed');
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

  private deliver(channel: string, payload: string): void {
    if (this.state !== 'running') return;
    const set = this.subscriptions.get(channel);
    if (!set) return;
    for (const subscription of [...set]) {
      if (!set.has(subscription)) continue; // unsubscribed by an earlier listener of this round
      try {
        const result = subscription.listener(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.listenerFailed(channel, error));
      } catch (error) {
        this.listenerFailed(channel, error);
      }
    }
  }

  private listenerFailed(channel: string, error: unknown): void {
    this.log.warn({ err: error, channel }, 'notification listener failed');
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
