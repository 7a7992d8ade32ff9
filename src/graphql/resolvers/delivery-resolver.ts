import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { DeliveryRow } from '../../db/delivery-row.js';
import { AppError } from '../../errors.js';
import { retryDeliveryNow } from '../../delivery/retry-now.js';
import { retryDeliveries } from '../../delivery/bulk.js';
import { cancelDelivery } from '../../delivery/cancel.js';
import { deliveryConditions, type DeliveryFilter as DeliveryCriteria } from '../../delivery/delivery-filter.js';
import type { GraphQLContext } from '../context.js';
import { notFound } from '../errors.js';
import { keysetPage, Where } from '../pagination.js';
import { DELIVERY_COLUMNS, toDeliveryType } from '../mappers/delivery.js';
import { toRelayType } from '../mappers/relay.js';
import { toSubscriptionType } from '../mappers/subscription.js';
import { attemptsPage, loadDelivery, loadEvent } from '../reads.js';
import { rows } from '../rows.js';
import { AttemptConnection } from '../types/attempt.js';
import { DeliveryConnection, DeliveryFilter, DeliveryType } from '../types/delivery.js';
import { EventType } from '../types/event.js';
import { RelayType } from '../types/relay.js';
import { EventSubscriptionType } from '../types/subscription.js';

/** A DeliveryFilter as the delivery domain takes it: the same fields, ids checked as UUIDs. */
function deliveryCriteria(ctx: GraphQLContext, filter: DeliveryFilter | null | undefined): DeliveryCriteria | undefined {
  if (!filter) return undefined;
  const id = (value: string | null | undefined) => (value ? ctx.uuid(value) : undefined);
  return {
    eventId: id(filter.eventId), relayId: id(filter.relayId), subscriptionId: id(filter.subscriptionId), sourceId: id(filter.sourceId),
    eventType: filter.eventType, status: filter.status, createdAfter: filter.createdAfter, createdBefore: filter.createdBefore,
  };
}

/** The WHERE clause of `deliveries`, built by the delivery domain from the filter. */
export function deliveryWhere(ctx: GraphQLContext, filter: DeliveryFilter | null | undefined): Where {
  const where = new Where();
  for (const condition of deliveryConditions(deliveryCriteria(ctx, filter))) where.add(condition);
  return where;
}

@Resolver(() => DeliveryType)
export class DeliveryResolver {
  @Query(() => DeliveryConnection, { description: 'Deliveries, newest first' })
  deliveries(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => DeliveryFilter, { nullable: true }) filter?: DeliveryFilter | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<DeliveryConnection> {
    return keysetPage(rows<DeliveryRow & { cursor_time: string }>(ctx.pool), {
      from: 'delivery d', alias: 'd', timeColumn: 'd.created_at', select: DELIVERY_COLUMNS, where: deliveryWhere(ctx, filter), first, after, map: toDeliveryType,
    });
  }

  @Query(() => DeliveryType, { nullable: true })
  delivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType | null> {
    return loadDelivery(ctx, id);
  }

  @FieldResolver(() => EventType)
  async event(@Root() delivery: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<EventType> {
    return (await loadEvent(ctx, delivery.eventId))!;
  }

  @FieldResolver(() => RelayType)
  async relay(@Root() delivery: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    return toRelayType((await ctx.loaders.relay.load(delivery.relayId))!, ctx.keyring);
  }

  @FieldResolver(() => ID, { nullable: true, description: "A delivery of an ordered key waiting for its turn: the id of the key's head, the delivery that goes before it (in flight, RETRYING, or DEAD under orderingOnDead HOLD); null when it is not waiting behind another" })
  async blockedBy(@Root() delivery: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<string | null> {
    if (delivery.orderingKey === null || !['PENDING', 'RETRYING', 'HELD'].includes(delivery.status)) return null;
    return ctx.loaders.blockedBy.load(delivery.id);
  }

  @FieldResolver(() => EventSubscriptionType, { nullable: true })
  async subscription(@Root() delivery: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<EventSubscriptionType | null> {
    if (!delivery.subscriptionId) return null;
    const found = await ctx.loaders.subscription.load(delivery.subscriptionId);
    return found ? toSubscriptionType(found) : null;
  }

  @FieldResolver(() => AttemptConnection)
  attempts(
    @Root() delivery: DeliveryType,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<AttemptConnection> {
    return attemptsPage(ctx, delivery.id, first, after);
  }

  @Mutation(() => Int, { description: 'Queues every matching DEAD or RETRYING delivery (of enabled relays) for an attempt now, in batches; returns how many' })
  async retryDeliveries(@Arg('filter', () => DeliveryFilter) filter: DeliveryFilter, @Ctx() ctx: GraphQLContext): Promise<number> {
    return retryDeliveries(ctx.pool, ctx.boss, deliveryCriteria(ctx, filter)!);
  }

  @Mutation(() => DeliveryType, { description: 'Stops a PENDING, RETRYING, HELD or DEAD delivery for good (a DEAD head of an ordered key releases its key)' })
  async cancelDelivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    const outcome = await cancelDelivery(ctx.pool, ctx.boss, ctx.uuid(id));
    if (outcome === 'not-found') notFound('delivery', id);
    if (typeof outcome === 'string') {
      throw new AppError('BAD_USER_INPUT', `id: only PENDING, RETRYING, HELD or DEAD deliveries can be cancelled; this one is ${outcome}`, { field: 'id' });
    }
    return toDeliveryType(outcome.cancelled);
  }

  @Mutation(() => DeliveryType, { description: 'Queues a DEAD or RETRYING delivery for an attempt now' })
  async retryDelivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    const outcome = await retryDeliveryNow(ctx.pool, ctx.boss, ctx.uuid(id));
    if (outcome === 'not-found') notFound('delivery', id);
    if (typeof outcome === 'string') {
      throw new AppError('BAD_USER_INPUT', `id: only DEAD or RETRYING deliveries can be retried; this one is ${outcome}`, { field: 'id' });
    }
    return toDeliveryType(outcome.queued);
  }
}
