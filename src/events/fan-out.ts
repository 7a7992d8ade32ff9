import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { newId } from '../ids.js';
import { notifyDeliveryChanges } from '../live/delivery-changes.js';
import { deliveryJob, DELIVERY_QUEUE, onClient } from '../queue/boss.js';
import { filterDocument, subscriptionMatches, type RoutableEvent, type SubscriptionRow } from '../routing/route-event.js';

type CandidateRow = SubscriptionRow & { max_concurrency: number };

export interface StoredEvent extends RoutableEvent {
  id: string;
}

export interface FannedOut {
  id: string;
  relayId: string;
  status: DeliveryStatus;
}

const NO_SOURCE = '00000000-0000-0000-0000-000000000000';

const SUBSCRIPTIONS = `
  select s.id, s.relay_id, s.event_types, s.source_ids, s.filter, r.enabled as relay_enabled, r.max_concurrency
  from event_subscription s join relay r on r.id = s.relay_id
  where s.enabled and (s.source_ids is null or jsonb_array_length(s.source_ids) = 0 or s.source_ids ? $1::text)`;

/**
 * One delivery per subscription that matches the event today, and a pg-boss job for each, on
 * the caller's transaction. Used when an event is accepted and when it is replayed.
 * A disabled relay's deliveries are HELD without a job: pg-boss retention must never decide
 * whether they survive; enabling the relay queues them.
 */
export async function fanOut(client: PoolClient, boss: PgBoss, event: StoredEvent): Promise<FannedOut[]> {
  const candidates = await client.query<CandidateRow>(SUBSCRIPTIONS, [event.sourceId ?? NO_SOURCE]);
  const doc = filterDocument(event);
  const matched = candidates.rows.filter((s) => subscriptionMatches(s, event, doc));
  if (matched.length === 0) return [];

  const deliveries: FannedOut[] = matched.map((s) => ({ id: newId(), relayId: s.relay_id, status: s.relay_enabled ? 'PENDING' : 'HELD' }));
  await client.query(
    `insert into delivery (id, event_id, relay_id, subscription_id, status, attempt_count, created_at, updated_at)
     select d.id, $1, d.relay_id, d.subscription_id, d.status, 0, now(), now()
     from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) as d(id, relay_id, subscription_id, status)`,
    [event.id, deliveries.map((d) => d.id), deliveries.map((d) => d.relayId), matched.map((s) => s.id), deliveries.map((d) => d.status)],
  );
  await notifyDeliveryChanges(client, deliveries.map((d) => ({ id: d.id, status: d.status, attemptCount: 0 })));
  const jobs = deliveries.flatMap((d, i) => (d.status === 'PENDING' ? [deliveryJob(d.id, 1, d.relayId, matched[i]!.max_concurrency)] : []));
  if (jobs.length > 0) await boss.insert(DELIVERY_QUEUE, jobs, { db: onClient(client) });
  return deliveries;
}
