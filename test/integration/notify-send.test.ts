import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, defineChannel, deliveryEntrySql, ENTRY_SEPARATOR, eventEntrySql, MAX_NOTIFY_PAYLOAD_BYTES } from '../../src/db/notify/channels.js';
import { encodeEntries, notify, notifySql } from '../../src/db/notify/send.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitUntil } from '../helpers/sink.js';

let sender: pg.Client;
let listener: pg.Client;
/** Raw payloads by channel, as any LISTEN (`psql`'s too) sees them. */
const payloads = new Map<string, string[]>();

const text = defineChannel<string>({ name: 'send_test', encode: (entry) => entry, decode: (entry) => entry });

beforeAll(async () => {
  const url = await createTestDatabase();
  sender = new pg.Client({ connectionString: url });
  listener = new pg.Client({ connectionString: url });
  await Promise.all([sender.connect(), listener.connect()]);
  listener.on('notification', (message) => {
    const list = payloads.get(message.channel) ?? [];
    list.push(message.payload ?? '');
    payloads.set(message.channel, list);
  });
  await listener.query(`listen send_test; listen ${channels.delivery.name}`);
});

afterAll(async () => {
  await Promise.all([sender.end(), listener.end()]);
});

/** Waits for the payloads of `channel` until they hold `entries` entries, and takes them. */
async function take(channel: string, entries: number): Promise<string[]> {
  const got = await waitUntil(() => {
    const list = payloads.get(channel) ?? [];
    return list.flatMap((payload) => payload.split(ENTRY_SEPARATOR)).length >= entries ? list : undefined;
  }, 20_000, `${entries} entries on ${channel}`);
  payloads.delete(channel);
  return got;
}

describe('notify, the one send function', () => {
  it('packs many entries into as few payloads as fit under the byte limit, in order, in one statement', async () => {
    // 100-byte entries, 'é' taking two bytes: the limit counts bytes, not characters.
    const entries = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, '0')}${'é'.repeat(48)}`);
    const perPayload = Math.floor((MAX_NOTIFY_PAYLOAD_BYTES + 1) / (100 + 1));
    const queries: string[] = [];
    const counted = { query: (sql: string, values?: unknown[]) => (queries.push(sql), sender.query(sql, values)) };
    await notify(counted, text, entries);
    expect(queries).toHaveLength(1);
    const got = await take('send_test', entries.length);
    expect(got).toHaveLength(Math.ceil(entries.length / perPayload));
    for (const payload of got) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_NOTIFY_PAYLOAD_BYTES);
    expect(got.flatMap((payload) => payload.split(ENTRY_SEPARATOR))).toEqual(entries);
  });

  it('sends nothing for no items', async () => {
    const queries: string[] = [];
    await notify({ query: async (sql: string) => void queries.push(sql) }, text, []);
    expect(queries).toEqual([]);
  });

  it('sends an entry of exactly the limit, and refuses a larger one before anything is sent', async () => {
    const largest = 'x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES);
    await notify(sender, text, [largest, 'next']);
    expect(await take('send_test', 2)).toEqual([largest, 'next']);

    const queries: string[] = [];
    const counted = { query: (sql: string, values?: unknown[]) => (queries.push(sql), sender.query(sql, values)) };
    await expect(notify(counted, text, ['ok', `${largest}x`])).rejects.toThrow(/send_test notification entry of 7901 bytes exceeds 7900 bytes/);
    await expect(notify(counted, text, ['a,b'])).rejects.toThrow(/separator/);
    expect(queries).toEqual([]);
  });

  it('hookyard_notify, the SQL side, keeps the same limit: it refuses an entry over it with a clear error', async () => {
    await sender.query('select hookyard_notify($1, $2::text[])', ['send_test', ['y'.repeat(MAX_NOTIFY_PAYLOAD_BYTES)]]);
    expect(await take('send_test', 1)).toEqual(['y'.repeat(MAX_NOTIFY_PAYLOAD_BYTES)]);
    await expect(sender.query('select hookyard_notify($1, $2::text[])', ['send_test', ['y'.repeat(MAX_NOTIFY_PAYLOAD_BYTES + 1)]]))
      .rejects.toMatchObject({ code: '22023', message: 'a send_test notification entry of 7901 bytes exceeds 7900 bytes' });
  });

  it('a delivery entry written in SQL reads as the channel writes it', async () => {
    const change = { id: '0195f3a2-7c1e-7d2a-9b3c-4d5e6f708192', status: 'RETRYING' as const, attemptCount: 2 };
    const { rows } = await sender.query<{ entry: string }>(`select ${deliveryEntrySql('$1::uuid', '$2::text', '$3::int')} as entry`, [change.id, change.status, change.attemptCount]);
    expect(rows[0]!.entry).toBe(channels.delivery.encode(change));

    await sender.query(`select ${notifySql(channels.delivery, `array[${deliveryEntrySql('$1::uuid', '$2::text', '$3::int')}]`)}`, [change.id, change.status, change.attemptCount]);
    const [payload] = await take(channels.delivery.name, 1);
    expect(channels.delivery.decode(payload!)).toEqual(change);
  });

  it.each([
    ['with a source', { id: '0195f3a2-7c1e-7d2a-9b3c-4d5e6f708193', sourceId: '0195f3a2-7c1e-7d2a-9b3c-4d5e6f708194' }],
    ['published (no source)', { id: '0195f3a2-7c1e-7d2a-9b3c-4d5e6f708195', sourceId: null }],
  ])('an event entry written in SQL reads as the channel writes it: %s', async (_, arrival) => {
    const { rows } = await sender.query<{ entry: string }>(`select ${eventEntrySql('$1::uuid', '$2::uuid')} as entry`, [arrival.id, arrival.sourceId]);
    expect(rows[0]!.entry).toBe(channels.event.encode(arrival));
    expect(channels.event.decode(rows[0]!.entry)).toEqual(arrival);
  });

  it('entries encoded for a statement parameter are checked as notify checks them', async () => {
    expect(encodeEntries(channels.delivery, [{ id: 'a', status: 'PENDING', attemptCount: 0 }])).toEqual(['a:PENDING:0']);
    expect(() => encodeEntries(defineChannel<string>({ name: 'send_test', encode: (s) => s, decode: (s) => s }), ['a,b'])).toThrow(/separator/);
    await sender.query(`select ${notifySql(channels.delivery, '$1::text[]')}`, [encodeEntries(channels.delivery, [])]);
    await sender.query(`select ${notifySql(channels.delivery, '$1::text[]')}`, [encodeEntries(channels.delivery, [{ id: 'b', status: 'PENDING', attemptCount: 0 }])]);
    // The empty array sent nothing: the first payload is the second statement's.
    expect(await take(channels.delivery.name, 1)).toEqual(['b:PENDING:0']);
  });
});
