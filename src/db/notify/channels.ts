import { DELIVERY_STATUSES, type DeliveryStatus } from '../entities/delivery.js';

/**
 * NOTIFY refuses payloads of 8000 bytes or more. Kept below that so a payload never meets the
 * server's own check; the same number is written in `hookyard_notify` (migration
 * Migration20261202000000_notify_function), which a test holds equal.
 */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7900;

/**
 * A payload carries one or more entries joined by this: a transaction announces all its rows
 * in as few notifications as fit. No entry may contain it.
 */
export const ENTRY_SEPARATOR = ',';

/** One NOTIFY channel: its name and how one entry of its payloads is written and read. */
export interface Channel<T> {
  readonly name: string;
  encode(item: T): string;
  /** Throws on an entry this channel never writes (a hand-typed NOTIFY, a newer replica). */
  decode(entry: string): T;
}

/** Channel names we accept: lower case, so the quoted `LISTEN` and `pg_notify($1)` agree. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertChannelName(name: string): void {
  if (!CHANNEL_NAME.test(name)) throw new RangeError(`invalid notification channel name: ${JSON.stringify(name)}`);
}

export function defineChannel<T>(channel: Channel<T>): Channel<T> {
  assertChannelName(channel.name);
  return channel;
}

/** A delivery's status change: what the live feed, the workers and `psql`'s LISTEN see. */
export interface DeliveryChange {
  id: string;
  status: DeliveryStatus;
  attemptCount: number;
}

/** An accepted event. */
export interface EventArrival {
  id: string;
  sourceId: string | null;
}

const statuses: ReadonlySet<string> = new Set(DELIVERY_STATUSES);

function malformed(channel: string, entry: string): never {
  throw new RangeError(`malformed ${channel} notification entry: ${JSON.stringify(entry.slice(0, 100))}`);
}

/** Ids, slugs: entries that are the item itself. */
function plain(name: string): Channel<string> {
  return defineChannel({
    name,
    encode: (item) => item,
    decode: (entry) => (entry === '' ? malformed(name, entry) : entry),
  });
}

/**
 * Every channel Hookyard uses. A notification is only ever a hint (a wake-up, a cache drop):
 * it is lost while a listener is disconnected, so each consumer that keeps state says what it
 * reloads after a reconnect (`NotifyBus.subscribe`).
 */
export const channels = {
  /** `<id>:<status>:<attempts>`: every delivery status change (also written in SQL: `deliveryEntrySql`). */
  delivery: defineChannel<DeliveryChange>({
    name: 'hookyard_delivery',
    encode: (c) => `${c.id}:${c.status}:${c.attemptCount}`,
    decode(entry) {
      const [id, status, attempts, extra] = entry.split(':');
      if (!id || !status || !statuses.has(status) || !attempts || !/^\d+$/.test(attempts) || extra !== undefined) malformed('hookyard_delivery', entry);
      return { id, status: status as DeliveryStatus, attemptCount: Number(attempts) };
    },
  }),
  /** `<event id>:<source id or empty>`: every accepted event (also written in SQL: `eventEntrySql`). */
  event: defineChannel<EventArrival>({
    name: 'hookyard_event',
    encode: (e) => `${e.id}:${e.sourceId ?? ''}`,
    decode(entry) {
      const [id, sourceId, extra] = entry.split(':');
      if (!id || sourceId === undefined || extra !== undefined) malformed('hookyard_event', entry);
      return { id, sourceId: sourceId === '' ? null : sourceId };
    },
  }),
  /** `<relay id>`: a relay was enabled or disabled. */
  relay: plain('hookyard_relay'),
  /** `<slug>`: a source changed, so every API replica drops its cached copy at once. */
  source: plain('hookyard_source'),
  /** `<token id>`: every API replica closes the websockets of a revoked token (4403). */
  tokenRevoked: plain('hookyard_token_revoked'),
} as const;

/**
 * The delivery entry written by a SQL statement, from three SQL expressions: the same text as
 * `channels.delivery.encode`, for producers that notify from inside one statement.
 */
export function deliveryEntrySql(id: string, status: string, attempts: string): string {
  return `${id} || ':' || ${status} || ':' || (${attempts})`;
}

/** The event entry written by a SQL statement (the same text as `channels.event.encode`), from two SQL expressions. */
export function eventEntrySql(id: string, sourceId: string): string {
  return `${id} || ':' || coalesce((${sourceId})::text, '')`;
}
