import type { ClientBase, Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { newId, NIL_UUID } from '../ids.js';
import { channels, eventEntrySql } from '../db/notify/channels.js';
import { notifySql } from '../db/notify/send.js';
import type { CandidateCache } from './candidate-cache.js';
import { findContentDuplicates, type ContentDedupe } from './content-dedupe.js';
import { candidateSubscriptionsSql, FanOutBatch, planDirect, planFanOut, type CandidateRow, type DirectRecipient, type FannedOut } from './fan-out.js';

export interface NewEvent {
  sourceId: string | null;
  type: string;
  idempotencyKey: string | null;
  headers: Record<string, string>;
  contentType: string | null;
  body: Buffer;
  /** Set for sources with content dedupe: a body accepted within the window is a duplicate. */
  dedupe?: ContentDedupe;
  /** Hookyard's own events (system-event.ts): one relay only, instead of the subscriptions. */
  to?: DirectRecipient;
  /** One relay more besides the subscriptions, unless one of them already took the event (the legacy alert relay, operational-event.ts). */
  alsoTo?: DirectRecipient;
  /** The ingest request's correlation id, logged with every attempt (tracing/ingest-trace.ts). */
  correlationId?: string | null;
  /** The ingest span's W3C `traceparent`, the parent of every attempt's span; none when tracing was off. */
  traceparent?: string | null;
}

export type AcceptResult = { id: string; duplicate: false; deliveries: FannedOut[] } | { id: string; duplicate: true };

const NO_SOURCE = NIL_UUID;

/**
 * Stores events, one delivery per matching subscription and one pg-boss job per delivery in
 * a single transaction: when this resolves, the work is durable; when it throws, none of it
 * exists (an Adyen batch is all or nothing). A repeated idempotency key returns the first
 * event's id and adds nothing.
 */
export function acceptEvents(pool: Pool, boss: PgBoss, events: readonly NewEvent[]): Promise<AcceptResult[]> {
  return inTransaction(pool, (client) => insertAll(client, boss, [events]).then((all) => all[0]!));
}

export async function acceptEvent(pool: Pool, boss: PgBoss, event: NewEvent): Promise<AcceptResult> {
  return (await acceptEvents(pool, boss, [event]))[0]!;
}

/**
 * The events of a batch, and the NOTIFY of those stored (not the repeated keys), as two CTEs,
 * `inserted` (id, source_id) and `notified`, over $1–$12 (`eventValues`): the NOTIFY is sent at
 * commit all the same, one round trip less per batch. The bodies travel as one binary parameter
 * ($7, cut by the starts and lengths in $8 and $9): as a `bytea[]`, pg writes each body as hex
 * text inside an array literal, twice its size to build, send and parse. The headers travel as
 * one JSON array ($5) for the same reason: as a `jsonb[]`, each request's JSON was escaped again
 * into the array literal (the largest of the api's allocations). The correlation id and trace
 * context of each event ($11, $12) are plain text arrays: a request's events share them, and
 * they are null for published and system events without them.
 */
export const INSERT_EVENTS_CTES = `
  inserted as (
    insert into event (id, source_id, type, idempotency_key, headers, content_type, body, body_sha256, received_at, correlation_id, traceparent)
    select e.id, e.source_id, e.type, e.idempotency_key, e.headers, e.content_type, substring($7::bytea from e.body_start for e.body_length), e.body_sha256, now(), e.correlation_id, e.traceparent
    from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], array(select h from jsonb_array_elements($5::jsonb) with ordinality as t(h, n) order by n), $6::text[], $8::int4[], $9::int4[], $10::bytea[], $11::text[], $12::text[])
      as e(id, source_id, type, idempotency_key, headers, content_type, body_start, body_length, body_sha256, correlation_id, traceparent)
    on conflict (coalesce(source_id, '${NO_SOURCE}'::uuid), idempotency_key) where idempotency_key is not null do nothing
    returning id, source_id),
  notified as (
    select ${notifySql(channels.event, `array_agg(${eventEntrySql('i.id', 'i.source_id')})`)} as sent from inserted i having count(*) > 0)`;

/** The parameters $1–$12 of `INSERT_EVENTS_CTES` for `events`, stored under `ids`. */
export function eventValues(ids: readonly string[], events: readonly NewEvent[]): unknown[] {
  const column = <T>(read: (e: NewEvent) => T): T[] => events.map(read);
  const bodies = packBodies(events);
  return [
    ids, column((e) => e.sourceId), column((e) => e.type), column((e) => e.idempotencyKey),
    JSON.stringify(column((e) => e.headers)), column((e) => e.contentType), bodies.bytes, bodies.starts, bodies.lengths, column((e) => e.dedupe?.sha256 ?? null),
    column((e) => e.correlationId ?? null), column((e) => e.traceparent ?? null),
  ];
}

/**
 * The events with the candidate subscriptions of the batch's sources (one row each,
 * `subscription` set) and the routing version they were read at (one row, `routing_version`
 * set), one round trip. A named statement: parsed and planned once per connection.
 */
const INSERT_EVENTS = {
  name: 'hookyard_insert_events_v6',
  text: `
  with ${INSERT_EVENTS_CTES},
  candidates as (${candidateSubscriptionsSql('$2::uuid[]')})
  select i.id, null::jsonb as subscription, null::text as routing_version from inserted i cross join notified
  union all
  select null, to_jsonb(c), null from candidates c
  union all
  select null, null, v.version::text from routing_version v`,
};

/** The bodies of `events` as one buffer, with each one's 1-based start and length in it. */
function packBodies(events: readonly NewEvent[]): { bytes: Buffer; starts: number[]; lengths: number[] } {
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 1;
  for (const e of events) {
    starts.push(at);
    lengths.push(e.body.length);
    at += e.body.length;
  }
  return { bytes: Buffer.concat(events.map((e) => e.body), at - 1), starts, lengths };
}

const FIND_DUPLICATES = `
  select k.n, e.id from unnest($1::uuid[], $2::text[]) with ordinality as k(source_id, idempotency_key, n)
  join event e on coalesce(e.source_id, '${NO_SOURCE}'::uuid) = coalesce(k.source_id, '${NO_SOURCE}'::uuid) and e.idempotency_key = k.idempotency_key`;

/** The stored event each of `events[missing]` repeats (its idempotency key's first event), by index. */
export async function findDuplicates(client: ClientBase, events: readonly NewEvent[], missing: readonly number[]): Promise<Map<number, string>> {
  const duplicates = new Map<number, string>();
  if (missing.length === 0) return duplicates;
  const found = await client.query<{ n: string; id: string }>(FIND_DUPLICATES, [missing.map((i) => events[i]!.sourceId), missing.map((i) => events[i]!.idempotencyKey)]);
  for (const row of found.rows) duplicates.set(missing[Number(row.n) - 1]!, row.id);
  return duplicates;
}

/**
 * Several requests' events in one transaction, in a fixed number of statements however many
 * there are: one multi-row event insert with its NOTIFY and the candidate subscriptions of the
 * batch's sources (repeated keys, also within the batch, are skipped by ON CONFLICT and answered
 * with the first event's id), one insert of the deliveries with their pg-boss jobs and NOTIFY; two
 * more when a source checks for repeated bodies (content-dedupe.ts). The candidates it read go
 * to `cache` with their routing version, for the batches after it (accept-in-one-statement.ts).
 */
export async function insertAll(client: PoolClient, boss: PgBoss, requests: readonly (readonly NewEvent[])[], cache?: CandidateCache): Promise<AcceptResult[][]> {
  const events = requests.flat();
  const ids = events.map(() => newId());
  const repeats = await findContentDuplicates(client, events);
  const stored = events.flatMap((_, i) => (repeats.has(i) ? [] : [i]));
  const inserted = await client.query<{ id: string | null; subscription: (CandidateRow & { for_source: string }) | null; routing_version: string | null }>({
    ...INSERT_EVENTS,
    values: eventValues(stored.map((i) => ids[i]!), stored.map((i) => events[i]!)),
  });
  const batch = new FanOutBatch();
  const fresh = new Set<string>();
  const candidates = new Map<string | null, CandidateRow[]>(stored.map((i) => [events[i]!.sourceId, []]));
  let version: string | null = null;
  for (const row of inserted.rows) {
    if (row.id !== null) fresh.add(row.id);
    else if (row.subscription) {
      const { for_source: forSource, ...candidate } = row.subscription;
      candidates.get(forSource === NO_SOURCE ? null : forSource)?.push(candidate);
    } else if (row.routing_version !== null) version = row.routing_version;
  }
  for (const [sourceId, rows] of candidates) {
    batch.know(sourceId, rows);
    if (cache && version !== null) cache.remember(sourceId, version, rows);
  }
  const duplicates = await findDuplicates(client, events, stored.filter((i) => !fresh.has(ids[i]!)));

  const flat: AcceptResult[] = [];
  for (let i = 0; i < events.length; i++) {
    const repeat = repeats.get(i);
    if (repeat) {
      flat.push({ id: 'id' in repeat ? repeat.id : flat[repeat.index]!.id, duplicate: true });
      continue;
    }
    if (!fresh.has(ids[i]!)) {
      flat.push({ id: duplicates.get(i)!, duplicate: true });
      continue;
    }
    const { to, alsoTo } = events[i]!;
    const deliveries = to ? planDirect(batch, ids[i]!, to) : await planFanOut(client, batch, { id: ids[i]!, ...events[i]! });
    if (alsoTo && !deliveries.some((d) => d.relayId === alsoTo.relayId)) deliveries.push(...planDirect(batch, ids[i]!, alsoTo));
    flat.push({ id: ids[i]!, duplicate: false, deliveries });
  }
  await batch.commit(client, boss);
  return byRequest(requests, flat);
}

/** The answers of a batch's events, flat in request order, cut back into one list per request. */
export function byRequest<T>(requests: readonly (readonly unknown[])[], flat: readonly T[]): T[][] {
  let offset = 0;
  return requests.map((r) => flat.slice(offset, (offset += r.length)));
}
