import type { DeliveryRow } from '../db/delivery-row.js';
import type { GraphQLContext } from './context.js';
import { ATTEMPT_COLUMNS, toAttemptType, type AttemptRow } from './mappers/attempt.js';
import { DELIVERY_COLUMNS, toDeliveryType } from './mappers/delivery.js';
import { keysetPage, Where, type Page } from './pagination.js';
import { rows } from './rows.js';
import type { AttemptType } from './types/attempt.js';
import type { DeliveryType } from './types/delivery.js';
import type { EventType } from './types/event.js';

// The reads more than one resolver makes: resolvers share them here rather than import each other.

/** One event, through the request's loader: a page of deliveries loads its events in one query. */
export function loadEvent(ctx: Pick<GraphQLContext, 'loaders' | 'uuid'>, id: string): Promise<EventType | null> {
  return ctx.loaders.event.load(ctx.uuid(id));
}

export async function loadDelivery(ctx: Pick<GraphQLContext, 'pool' | 'uuid'>, id: string): Promise<DeliveryType | null> {
  const { rows: found } = await ctx.pool.query<DeliveryRow>(`select ${DELIVERY_COLUMNS} from delivery d where d.id = $1`, [ctx.uuid(id)]);
  return found[0] ? toDeliveryType(found[0]) : null;
}

/** A delivery's attempts, newest first: `Query.attempts`, `Delivery.attempts` and `sendTestEvent`. */
export function attemptsPage(ctx: Pick<GraphQLContext, 'pool' | 'uuid'>, deliveryId: string, first?: number | null, after?: string | null): Promise<Page<AttemptType>> {
  const where = new Where().add((p) => `a.delivery_id = ${p(ctx.uuid(deliveryId))}`);
  return keysetPage(rows<AttemptRow>(ctx.pool), {
    from: 'attempt a',
    alias: 'a',
    timeColumn: 'a.started_at',
    select: ATTEMPT_COLUMNS,
    where,
    first,
    after,
    map: toAttemptType,
  });
}
