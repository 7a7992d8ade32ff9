import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { deliveryJobsOf, type DeliveryTransition } from '../delivery/enqueue.js';
import { channels } from '../db/notify/channels.js';
import { encodeEntries, notifySql } from '../db/notify/send.js';
import { newDeliveryStatus } from '../delivery/status-machine.js';
import { DELIVERY_QUEUE } from '../queue/boss.js';
import { deliveryJobValues, insertDeliveryJobsSql, jobTable } from '../queue/insert-jobs.js';
import { newId, NIL_UUID } from '../ids.js';
import { filterDocument, subscriptionMatches, type RoutableEvent, type SubscriptionRow } from '../routing/route-event.js';
import { orderingKeyOf, type KeyedEvent } from '../delivery/ordering/ordering-key.js';
import { enterLines } from '../delivery/ordering/lines.js';

export type CandidateRow = SubscriptionRow & { max_concurrency: number; ordering_key_from: string | null };

export interface StoredEvent extends RoutableEvent {
  id: string;
  /** For relays ordered by `idempotencyKey`. */
  idempotencyKey?: string | null;
}

export interface FannedOut {
  id: string;
  relayId: string;
  status: DeliveryStatus;
}

const NO_SOURCE = NIL_UUID;

const SUBSCRIPTIONS = `
  select s.id, s.relay_id, s.event_types, s.source_ids, s.filter, r.enabled as relay_enabled, r.max_concurrency, r.ordering_key_from
  from event_subscription s join relay r on r.id = s.relay_id
  where s.enabled and (s.source_ids is null or jsonb_array_length(s.source_ids) = 0 or s.source_ids ? $1::text)`;

/**
 * The candidate subscriptions of every source in `sources` (a SQL `uuid[]` expression, null for
 * no source) as one row each with the source it is for (`for_source`, the nil UUID for none):
 * for a statement that reads them along with its own work (accept.ts), one round trip less.
 * The same rule as SUBSCRIPTIONS.
 */
export function candidateSubscriptionsSql(sources: string): string {
  return `
  select k.for_source, s.id, s.relay_id, s.event_types, s.source_ids, s.filter, r.enabled as relay_enabled, r.max_concurrency, r.ordering_key_from
  from (select distinct coalesce(x, '${NO_SOURCE}'::uuid) as for_source from unnest(${sources}) as x) k
  join event_subscription s on s.enabled and (s.source_ids is null or jsonb_array_length(s.source_ids) = 0 or s.source_ids ? k.for_source::text)
  join relay r on r.id = s.relay_id`;
}

/**
 * The deliveries, their pg-boss jobs (queue/insert-jobs.ts) and their NOTIFY in one statement
 * (sent at commit all the same): a round trip per batch less than the delivery insert followed
 * by `boss.insert`. Built once per process, for the table pg-boss keeps the queue's jobs in; a
 * second form carries the ordering columns, used only by batches with a delivery of an ordered
 * relay, so an unordered batch sends exactly what it sent before ordering existed.
 */
const insertDeliveries = new Map<string, { name: string; text: string }>();
function insertDeliveriesStatement(table: string, ordered: boolean): { name: string; text: string } {
  const id = `${table}:${ordered}`;
  let statement = insertDeliveries.get(id);
  if (!statement) {
    const extra = ordered
      ? { columns: ', ordering_key, ordering_position, unordered_reason, alone', values: ', d.ordering_key, d.ordering_position, d.unordered_reason, d.alone', params: ', $7::text[], $8::int8[], $9::text[], $10::boolean[]', names: ', ordering_key, ordering_position, unordered_reason, alone' }
      : { columns: '', values: '', params: '', names: '' };
    statement = {
      name: `hookyard_insert_deliveries_jobs_${insertDeliveries.size}`,
      text: `
  with inserted as (
    insert into delivery (id, event_id, relay_id, subscription_id, status, attempt_count, created_at, updated_at${extra.columns})
    select d.id, d.event_id, d.relay_id, d.subscription_id, d.status, 0, now(), now()${extra.values}
    from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[]${extra.params}) as d(id, event_id, relay_id, subscription_id, status${extra.names})),
  jobs as (${insertDeliveryJobsSql(table, DELIVERY_QUEUE, ordered ? 11 : 7)})
  select ${notifySql(channels.delivery, '$6::text[]')}`,
    };
    insertDeliveries.set(id, statement);
  }
  return statement;
}

export interface PlannedDelivery {
  id: string;
  eventId: string;
  relayId: string;
  subscriptionId: string | null;
  status: DeliveryStatus;
  maxConcurrency: number;
  /** Its relay orders by key: the key, or why this one goes unordered. */
  orderingKey?: string;
  unorderedReason?: string;
  /** Given a job: PENDING, and not waiting behind its key's head (`commit` decides that for ordered ones). */
  queue: boolean;
  /** Sent by itself even to a batching relay (a replay). */
  alone?: boolean;
}

/**
 * What a transaction's fan-outs still owe: the deliveries planned, their pg-boss jobs and
 * their NOTIFY, written once per transaction however many events it carries.
 */
export class FanOutBatch {
  /** The deliveries planned, inserted by `commit` in one statement. */
  readonly rows: PlannedDelivery[] = [];
  private readonly subscriptions = new Map<string, CandidateRow[]>();

  /** Candidates read by the caller in this transaction (`candidateSubscriptionsSql`), for sources with none as well. */
  know(sourceId: string | null, rows: CandidateRow[]): void {
    this.subscriptions.set(sourceId ?? NO_SOURCE, rows);
  }

  /** The candidate subscriptions of a source, read once per transaction. */
  async candidates(client: PoolClient, sourceId: string | null): Promise<CandidateRow[]> {
    const key = sourceId ?? NO_SOURCE;
    let rows = this.subscriptions.get(key);
    if (!rows) {
      rows = (await client.query<CandidateRow>({ name: 'hookyard_candidate_subscriptions', text: SUBSCRIPTIONS, values: [key] })).rows;
      this.subscriptions.set(key, rows);
    }
    return rows;
  }

  /**
   * The deliveries with their jobs and NOTIFY, in one statement. Every change announced is a
   * row planned here, so the insert carries the announcement. Deliveries of ordered relays
   * first enter their keys' lines (one statement more, only for such a batch), in the order
   * they were planned (acceptance order): only a line's head gets a job.
   */
  async commit(client: PoolClient, boss: PgBoss): Promise<void> {
    const rows = this.rows.splice(0);
    if (rows.length === 0) return;
    const keyed = rows.filter((d) => d.orderingKey !== undefined);
    const places = await enterLines(client, keyed.map((d) => ({ deliveryId: d.id, relayId: d.relayId, key: d.orderingKey! })));
    const changes = transitionsOf(rows, places);
    // The wider statement only for a batch that writes what only it carries.
    const ordered = !plainRows(rows);
    const columns: unknown[] = [...deliveryColumns(rows), encodeEntries(channels.delivery, changes)];
    if (ordered) columns.push(rows.map((d) => d.orderingKey ?? null), rows.map((d) => places.get(d.id)?.position ?? null), rows.map((d) => d.unorderedReason ?? null), rows.map((d) => d.alone ?? false));
    await client.query({
      ...insertDeliveriesStatement(await jobTable(boss, DELIVERY_QUEUE), ordered),
      values: [...columns, ...deliveryJobValues(deliveryJobsOf(changes))],
    });
  }
}

/** Rows that carry nothing but the columns every delivery has (no ordering, not sent alone). */
export function plainRows(rows: readonly PlannedDelivery[]): boolean {
  return !rows.some((d) => d.orderingKey !== undefined || d.unorderedReason !== undefined || d.alone);
}

/** The columns every delivery insert writes, as array parameters: id, event, relay, subscription, status. */
export function deliveryColumns(rows: readonly PlannedDelivery[]): unknown[] {
  return [rows.map((d) => d.id), rows.map((d) => d.eventId), rows.map((d) => d.relayId), rows.map((d) => d.subscriptionId), rows.map((d) => d.status)];
}

/** What each new delivery announces, with the job of those that go now (a keyed one only as its line's head). */
export function transitionsOf(rows: readonly PlannedDelivery[], places: ReadonlyMap<string, { head: boolean }> = new Map()): DeliveryTransition[] {
  return rows.map((d) => {
    const place = places.get(d.id);
    const job = d.queue && (!place || place.head) ? { relayId: d.relayId, maxConcurrency: d.maxConcurrency } : undefined;
    return { id: d.id, status: d.status, attemptCount: 0, job };
  });
}

/**
 * One delivery per subscription that matches the event today, on the caller's transaction,
 * added to `batch` (a disabled relay's deliveries are HELD without a job: pg-boss retention
 * must never decide whether they survive; enabling the relay queues them); `batch.commit`
 * writes them with their jobs and NOTIFY. A relay with `orderingKeyFrom` gets the event's key
 * on its delivery (or the reason it has none). Used when events are accepted and when one is
 * replayed.
 */
export async function planFanOut(client: PoolClient, batch: FanOutBatch, event: StoredEvent, options: { alone?: boolean } = {}): Promise<FannedOut[]> {
  return planAmong(batch, await batch.candidates(client, event.sourceId), event, options);
}

/** `planFanOut` with the candidate subscriptions of the event's source already at hand. */
export function planAmong(batch: FanOutBatch, candidates: readonly CandidateRow[], event: StoredEvent, options: { alone?: boolean } = {}): FannedOut[] {
  const doc = filterDocument(event);
  const matched = candidates.filter((s) => subscriptionMatches(s, event, doc));
  if (matched.length === 0) return [];

  let keyed: KeyedEvent | undefined;
  return matched.map((s) => {
    const status = newDeliveryStatus(s.relay_enabled);
    const delivery: PlannedDelivery = { id: newId(), eventId: event.id, relayId: s.relay_id, subscriptionId: s.id, status, maxConcurrency: s.max_concurrency, queue: status === 'PENDING', ...(options.alone ? { alone: true } : {}) };
    if (s.ordering_key_from) {
      keyed ??= { headers: event.headers, idempotencyKey: event.idempotencyKey ?? null, json: () => doc().body };
      const key = orderingKeyOf(s.ordering_key_from, keyed);
      if ('key' in key) delivery.orderingKey = key.key;
      else delivery.unorderedReason = key.unordered;
    }
    batch.rows.push(delivery);
    return { id: delivery.id, relayId: delivery.relayId, status };
  });
}

/** Where one of Hookyard's own events goes: one relay, whatever the subscriptions say. */
export interface DirectRecipient {
  relayId: string;
  relayEnabled: boolean;
  maxConcurrency: number;
  /** The caller sends it itself, now (sendTestEvent): PENDING whatever the relay's state, and no job. */
  sendsItself?: boolean;
}

/** The one delivery of an event addressed to one relay, added to `batch` like a fan-out's. */
export function planDirect(batch: FanOutBatch, eventId: string, to: DirectRecipient): FannedOut[] {
  const status = to.sendsItself ? 'PENDING' : newDeliveryStatus(to.relayEnabled);
  const delivery: FannedOut = { id: newId(), relayId: to.relayId, status };
  batch.rows.push({ id: delivery.id, eventId, relayId: to.relayId, subscriptionId: null, status, maxConcurrency: to.maxConcurrency, queue: status === 'PENDING' && !to.sendsItself });
  return [delivery];
}

/** A fan-out that is its transaction's only one (replay: its deliveries go alone to a batching relay). */
export async function fanOut(client: PoolClient, boss: PgBoss, event: StoredEvent, options: { alone?: boolean } = {}): Promise<FannedOut[]> {
  const batch = new FanOutBatch();
  const deliveries = await planFanOut(client, batch, event, options);
  await batch.commit(client, boss);
  return deliveries;
}
