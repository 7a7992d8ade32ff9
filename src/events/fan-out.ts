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

export type CandidateRow = SubscriptionRow & { max_concurrency: number };

export interface StoredEvent extends RoutableEvent {
  id: string;
}

export interface FannedOut {
  id: string;
  relayId: string;
  status: DeliveryStatus;
}

const NO_SOURCE = NIL_UUID;

const SUBSCRIPTIONS = `
  select s.id, s.relay_id, s.event_types, s.source_ids, s.filter, r.enabled as relay_enabled, r.max_concurrency
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
  select k.for_source, s.id, s.relay_id, s.event_types, s.source_ids, s.filter, r.enabled as relay_enabled, r.max_concurrency
  from (select distinct coalesce(x, '${NO_SOURCE}'::uuid) as for_source from unnest(${sources}) as x) k
  join event_subscription s on s.enabled and (s.source_ids is null or jsonb_array_length(s.source_ids) = 0 or s.source_ids ? k.for_source::text)
  join relay r on r.id = s.relay_id`;
}

/**
 * The deliveries, their pg-boss jobs (queue/insert-jobs.ts) and their NOTIFY in one statement
 * (sent at commit all the same): a round trip per batch less than the delivery insert followed
 * by `boss.insert`. Built once per process, for the table pg-boss keeps the queue's jobs in.
 */
const insertDeliveries = new Map<string, { name: string; text: string }>();
function insertDeliveriesStatement(table: string): { name: string; text: string } {
  let statement = insertDeliveries.get(table);
  if (!statement) {
    statement = {
      name: `hookyard_insert_deliveries_jobs_${insertDeliveries.size}`,
      text: `
  with inserted as (
    insert into delivery (id, event_id, relay_id, subscription_id, status, attempt_count, created_at, updated_at)
    select d.id, d.event_id, d.relay_id, d.subscription_id, d.status, 0, now(), now()
    from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) as d(id, event_id, relay_id, subscription_id, status)),
  jobs as (${insertDeliveryJobsSql(table, DELIVERY_QUEUE, 7)})
  select ${notifySql(channels.delivery, '$6::text[]')}`,
    };
    insertDeliveries.set(table, statement);
  }
  return statement;
}

/**
 * What a transaction's fan-outs still owe: the pg-boss jobs and the NOTIFY of the deliveries
 * they inserted, written once per transaction however many events it carries.
 */
export class FanOutBatch {
  readonly changes: DeliveryTransition[] = [];
  /** The deliveries planned, inserted by `commit` in one statement. */
  readonly rows: { id: string; eventId: string; relayId: string; subscriptionId: string | null; status: string }[] = [];
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
   * row planned here, so the insert carries the announcement.
   */
  async commit(client: PoolClient, boss: PgBoss): Promise<void> {
    const rows = this.rows.splice(0);
    const changes = this.changes.splice(0);
    if (rows.length === 0) return;
    const jobs = deliveryJobsOf(changes);
    await client.query({
      ...insertDeliveriesStatement(await jobTable(boss, DELIVERY_QUEUE)),
      values: [
        rows.map((d) => d.id), rows.map((d) => d.eventId), rows.map((d) => d.relayId), rows.map((d) => d.subscriptionId), rows.map((d) => d.status),
        encodeEntries(channels.delivery, changes), ...deliveryJobValues(jobs),
      ],
    });
  }
}

/**
 * One delivery per subscription that matches the event today, on the caller's transaction;
 * their jobs and NOTIFY are added to `batch` (a disabled relay's deliveries are HELD without a
 * job: pg-boss retention must never decide whether they survive; enabling the relay queues
 * them); `batch.commit` writes them. Used when events are accepted and when one is replayed.
 */
export async function planFanOut(client: PoolClient, batch: FanOutBatch, event: StoredEvent): Promise<FannedOut[]> {
  const candidates = await batch.candidates(client, event.sourceId);
  const doc = filterDocument(event);
  const matched = candidates.filter((s) => subscriptionMatches(s, event, doc));
  if (matched.length === 0) return [];

  const deliveries: FannedOut[] = matched.map((s) => ({ id: newId(), relayId: s.relay_id, status: newDeliveryStatus(s.relay_enabled) }));
  deliveries.forEach((d, i) => {
    batch.rows.push({ id: d.id, eventId: event.id, relayId: d.relayId, subscriptionId: matched[i]!.id, status: d.status });
    // A HELD delivery gets no job: pg-boss retention must never decide whether it survives.
    const job = d.status === 'PENDING' ? { relayId: d.relayId, maxConcurrency: matched[i]!.max_concurrency } : undefined;
    batch.changes.push({ id: d.id, status: d.status, attemptCount: 0, job });
  });
  return deliveries;
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
  const delivery: FannedOut = { id: newId(), relayId: to.relayId, status: to.sendsItself ? 'PENDING' : newDeliveryStatus(to.relayEnabled) };
  batch.rows.push({ id: delivery.id, eventId, relayId: to.relayId, subscriptionId: null, status: delivery.status });
  const job = delivery.status === 'PENDING' && !to.sendsItself ? { relayId: to.relayId, maxConcurrency: to.maxConcurrency } : undefined;
  batch.changes.push({ id: delivery.id, status: delivery.status, attemptCount: 0, job });
  return [delivery];
}

/** A fan-out that is its transaction's only one (replay). */
export async function fanOut(client: PoolClient, boss: PgBoss, event: StoredEvent): Promise<FannedOut[]> {
  const batch = new FanOutBatch();
  const deliveries = await planFanOut(client, batch, event);
  await batch.commit(client, boss);
  return deliveries;
}
