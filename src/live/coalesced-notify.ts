export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** NOTIFY's payload limit is 8000 bytes. */
const MAX_PAYLOAD = 7800;

/**
 * `pg_notify` on the caller's connection, so it is sent when (and only if) the caller's
 * transaction commits, in commit order. Entries are joined by `,` into as few notifications as
 * fit: one NOTIFY per transaction, not one per row.
 */
export async function notifyCoalesced(client: Queryable, channel: string, entries: readonly string[]): Promise<void> {
  let payload = '';
  for (const entry of entries) {
    if (payload && payload.length + 1 + entry.length > MAX_PAYLOAD) {
      await client.query('select pg_notify($1, $2)', [channel, payload]);
      payload = '';
    }
    payload = payload ? `${payload},${entry}` : entry;
  }
  if (payload) await client.query('select pg_notify($1, $2)', [channel, payload]);
}
