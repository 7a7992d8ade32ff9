import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import { notifyDeliveryChanges } from '../live/delivery-changes.js';
import { FIRST_TRY_QUEUE, onClient, type DeliveryJob } from '../queue/boss.js';
import { matchesAny, matchesSource } from '../routing/match.js';

export interface NewEvent {
  sourceId: string | null;
  type: string;
  idempotencyKey: string | null;
  headers: Record<string, string>;
  contentType: string | null;
  body: Buffer;
}

export type AcceptResult = { id: string; duplicate: false; deliveries: number } | { id: string; duplicate: true };

interface SubscriptionRow {
  id: string;
  relay_id: string;
  event_types: string[];
  source_ids: string[] | null;
  relay_enabled: boolean;
}

const NO_SOURCE = '00000000-0000-0000-0000-000000000000';

const INSERT_EVENT = `
  insert into event (id, source_id, type, idempotency_key, headers, content_type, body, received_at)
  values ($1, $2, $3, $4, $5, $6, $7, now())
  on conflict (coalesce(source_id, '${NO_SOURCE}'::uuid), idempotency_key) where idempotency_key is not null do nothing
  returning id`;

const FIND_DUPLICATE = `
  select id from event
  where coalesce(source_id, '${NO_SOURCE}'::uuid) = coalesce($1::uuid, '${NO_SOURCE}'::uuid) and idempotency_key = $2`;

const SUBSCRIPTIONS = `
  select s.id, s.relay_id, s.event_types, s.source_ids, r.enabled as relay_enabled
  from event_subscription s join relay r on r.id = s.relay_id
  where s.enabled and (s.source_ids is null or jsonb_array_length(s.source_ids) = 0 or s.source_ids ? $1::text)`;

/**
 * Stores an event, one delivery per matching subscription and one pg-boss job per delivery
 * in a single transaction: when this resolves, the work is durable; when it throws, none of
 * it exists. A repeated idempotency key returns the first event's id and adds nothing.
 */
export function acceptEvent(pool: Pool, boss: PgBoss, event: NewEvent): Promise<AcceptResult> {
  return inTransaction(pool, (client) => insertWithDeliveries(client, boss, event));
}

async function insertWithDeliveries(client: PoolClient, boss: PgBoss, event: NewEvent): Promise<AcceptResult> {
  const id = newId();
  const inserted = await client.query(INSERT_EVENT, [id, event.sourceId, event.type, event.idempotencyKey, event.headers, event.contentType, event.body]);
  if (inserted.rowCount === 0) {
    const first = await client.query<{ id: string }>(FIND_DUPLICATE, [event.sourceId, event.idempotencyKey]);
    return { id: first.rows[0]!.id, duplicate: true };
  }

  const subscriptions = await client.query<SubscriptionRow>(SUBSCRIPTIONS, [event.sourceId ?? NO_SOURCE]);
  const matched = subscriptions.rows.filter(
    (s) => matchesSource(s.source_ids, event.sourceId) && matchesAny(s.event_types, event.type),
  );
  if (matched.length === 0) return { id, duplicate: false, deliveries: 0 };

  const deliveryIds = matched.map(() => newId());
  await client.query(
    `insert into delivery (id, event_id, relay_id, subscription_id, status, attempt_count, created_at, updated_at)
     select d.id, $1, d.relay_id, d.subscription_id, d.status, 0, now(), now()
     from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) as d(id, relay_id, subscription_id, status)`,
    [id, deliveryIds, matched.map((s) => s.relay_id), matched.map((s) => s.id), matched.map((s) => (s.relay_enabled ? 'PENDING' : 'HELD'))],
  );
  // A disabled relay's deliveries are HELD without a job: pg-boss retention must never be
  // what decides whether they survive; enabling the relay queues them.
  await notifyDeliveryChanges(client, deliveryIds.map((deliveryId, i) => ({ id: deliveryId, status: matched[i]!.relay_enabled ? 'PENDING' : 'HELD', attemptCount: 0 })));
  const jobs = matched.flatMap((s, i) => (s.relay_enabled ? [{ data: { deliveryId: deliveryIds[i]!, attempt: 1 } satisfies DeliveryJob }] : []));
  if (jobs.length > 0) await boss.insert(FIRST_TRY_QUEUE, jobs, { db: onClient(client) });
  return { id, duplicate: false, deliveries: matched.length };
}
