import type { DeliveryStatus } from '../db/entities/delivery.js';

/** Which deliveries a list or a bulk operation takes; every field narrows, ids are UUIDs. */
export interface DeliveryFilter {
  eventId?: string | null;
  relayId?: string | null;
  /** The routing rule that made the delivery; deliveries of direct sends (test events, alerts) have none. */
  subscriptionId?: string | null;
  sourceId?: string | null;
  /** Exact event type. */
  eventType?: string | null;
  status?: readonly DeliveryStatus[] | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** One SQL condition on `delivery d`; `param` adds a value and returns its placeholder. */
export type Condition = (param: (value: unknown) => string) => string;

/** The filter as SQL conditions on `delivery d`, every value a parameter. */
export function deliveryConditions(filter: DeliveryFilter | null | undefined): Condition[] {
  const conditions: Condition[] = [];
  if (!filter) return conditions;
  const { eventId, relayId, subscriptionId, sourceId, eventType, status, createdAfter, createdBefore } = filter;
  if (eventId) conditions.push((p) => `d.event_id = ${p(eventId)}`);
  if (relayId) conditions.push((p) => `d.relay_id = ${p(relayId)}`);
  if (subscriptionId) conditions.push((p) => `d.subscription_id = ${p(subscriptionId)}`);
  if (sourceId) conditions.push((p) => `d.event_id in (select id from event where source_id = ${p(sourceId)})`);
  if (eventType) conditions.push((p) => `d.event_id in (select id from event where type = ${p(eventType)})`);
  // One status as plain equality, so (relay_id, status, created_at, id) also serves the order.
  if (status && status.length === 1) conditions.push((p) => `d.status = ${p(status[0])}`);
  else if (status && status.length > 1) conditions.push((p) => `d.status = any(${p(status)}::text[])`);
  if (createdAfter) conditions.push((p) => `d.created_at > ${p(createdAfter)}`);
  if (createdBefore) conditions.push((p) => `d.created_at < ${p(createdBefore)}`);
  return conditions;
}

/** The conditions as SQL text, their parameters numbered from `$1`. */
export function deliveryConditionsSql(filter: DeliveryFilter | null | undefined): { conditions: string[]; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  return { conditions: deliveryConditions(filter).map((condition) => condition(param)), params };
}
