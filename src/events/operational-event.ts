import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { OPERATIONS_SOURCE_ID } from '../routing/operations-source.js';
import { insertAll } from './accept.js';
import { eventEnvelope } from './envelope.js';
import type { DirectRecipient } from './fan-out.js';

/** The operational event types, each documented in the README's Delivery section. */
export type OperationalEventType = 'delivery.dead' | 'relay.failing' | 'relay.disabled' | 'relay.recovered' | 'source.rejecting';

export interface OperationalEvent {
  type: OperationalEventType;
  data: Record<string, unknown>;
  /** HOOKYARD_ALERT_RELAY_ID for `relay.disabled`: that relay gets it too, as it did before subscriptions could. */
  alsoTo?: DirectRecipient;
}

/**
 * Stores operational events as ordinary events of the built-in source, on the caller's
 * transaction (as durable as the change they report), fanned out through the subscriptions
 * that name that source, in `insertAll`'s fixed number of statements however many there are.
 * No idempotency key: each report is its own event.
 */
export async function storeOperationalEvents(client: PoolClient, boss: PgBoss, events: readonly OperationalEvent[]): Promise<void> {
  if (events.length === 0) return;
  const now = new Date();
  await insertAll(client, boss, [events.map((e) => ({
    sourceId: OPERATIONS_SOURCE_ID, type: e.type, idempotencyKey: null, headers: {}, contentType: 'application/json',
    body: eventEnvelope(e.type, e.data, now), alsoTo: e.alsoTo,
  }))]);
}
