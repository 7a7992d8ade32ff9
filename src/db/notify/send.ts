import { ENTRY_SEPARATOR, MAX_NOTIFY_PAYLOAD_BYTES, type Channel } from './channels.js';

/** A pg `Pool`, `PoolClient` or `Client`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/**
 * Announces `items` on `channel` through the caller's connection, so inside a transaction the
 * notifications are sent when (and only if) it commits, in commit order. One statement
 * whatever the number of items: `hookyard_notify` packs the entries into as few payloads as
 * fit under the byte limit (every NOTIFY takes a cluster-wide lock through the commit, so one
 * per transaction, not one per row).
 *
 * An entry that could never fit, or that holds the separator, is a producer's bug: a
 * RangeError here, before anything is sent, rather than a server error aborting the
 * producer's transaction.
 */
export async function notify<T>(client: Queryable, channel: Channel<T>, items: readonly T[]): Promise<void> {
  if (items.length === 0) return;
  await client.query('select hookyard_notify($1, $2::text[])', [channel.name, encodeEntries(channel, items)]);
}

/**
 * The entries `notify` would send for `items`, checked the same way, for a producer that
 * passes them as a `text[]` parameter to the statement that writes the rows (`notifySql`).
 */
export function encodeEntries<T>(channel: Channel<T>, items: readonly T[]): string[] {
  const entries = items.map((item) => channel.encode(item));
  for (const entry of entries) {
    if (entry.includes(ENTRY_SEPARATOR)) throw new RangeError(`a ${channel.name} notification entry holds the separator ${JSON.stringify(ENTRY_SEPARATOR)}`);
    const bytes = Buffer.byteLength(entry, 'utf8');
    if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) throw new RangeError(`a ${channel.name} notification entry of ${bytes} bytes exceeds ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`);
  }
  return entries;
}

/**
 * The same announcement as a SQL expression, for a producer that notifies from inside the
 * statement that changes the rows (no round trip of its own): `entries` is a SQL `text[]`
 * expression, e.g. `array_agg(…)` of `deliveryEntrySql`, or a parameter filled by `encodeEntries`.
 * `hookyard_notify` sends nothing for an empty or null array.
 */
export function notifySql(channel: Channel<unknown>, entries: string): string {
  return `hookyard_notify('${channel.name}', ${entries})`;
}

