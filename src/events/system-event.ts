import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { insertAll } from './accept.js';
import { eventEnvelope } from './envelope.js';
import type { DirectRecipient } from './fan-out.js';

/**
 * One of Hookyard's own direct sends (`hookyard.test`), stored on the caller's
 * transaction by the path every event takes (events/accept), and delivered to one relay only,
 * whatever the subscriptions say. Returns the event's and its delivery's ids.
 */
export async function storeSystemEvent(client: PoolClient, boss: PgBoss, input: { type: string; data: unknown; to: DirectRecipient }): Promise<{ eventId: string; deliveryId: string }> {
  const [[result]] = await insertAll(client, boss, [[
    { sourceId: null, type: input.type, idempotencyKey: null, headers: {}, contentType: 'application/json', body: eventEnvelope(input.type, input.data), to: input.to },
  ]]);
  // No idempotency key, no content dedupe: never a duplicate.
  if (!result || result.duplicate) throw new Error(`the ${input.type} event was not stored`);
  return { eventId: result.id, deliveryId: result.deliveries[0]!.id };
}
