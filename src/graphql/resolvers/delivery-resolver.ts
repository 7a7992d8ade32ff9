import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { DeliveryRow } from '../../db/delivery-row.js';
import { AppError } from '../../errors.js';
import { retryDeliveryNow } from '../../delivery/retry-now.js';
import { cancelDelivery, retryDeliveries } from '../../delivery/bulk.js';
import type { GraphQLContext } from '../context.js';
import { notFound } from '../errors.js';
import { keysetPage, Where } from '../pagination.js';
import { DELIVERY_COLUMNS, toDeliveryType } from '../mappers/delivery.js';
import { toRelayType } from '../mappers/relay.js';
import { attemptsPage, loadDelivery, loadEvent } from '../reads.js';
import { rows } from '../rows.js';
import { AttemptConnection } from '../types/attempt.js';
import { DeliveryConnection, DeliveryFilter, DeliveryType } from '../types/delivery.js';
import { EventType } from '../types/event.js';
import { RelayType } from '../types/relay.js';

/** The WHERE clause of a DeliveryFilter, shared by `deliveries` and bulk operations. */
export function deliveryWhere(ctx: GraphQLContext, filter: DeliveryFilter | null | undefined): Where {
  const where = new Where();
  if (filter?.eventId) where.add((p) => `d.event_id = ${p(ctx.uuid(filter.eventId!))}`);
  if (filter?.relayId) where.add((p) => `d.relay_id = ${p(ctx.uuid(filter.relayId!))}`);
  if (filter?.sourceId) where.add((p) => `d.event_id in (select id from event where source_id = ${p(ctx.uuid(filter.sourceId!))})`);
  if (filter?.eventType) where.add((p) => `d.event_id in (select id from event where type = ${p(filter.eventType)})`);
  // One status as plain equality, so (relay_id, status, created_at, id) also serves the order.
  if (filter?.status && filter.status.length === 1) where.add((p) => `d.status = ${p(filter.status![0])}`);
  else if (filter?.status && filter.status.length > 1) where.add((p) => `d.status = any(${p(filter.status)}::text[])`);
  if (filter?.createdAfter) where.add((p) => `d.created_at > ${p(filter.createdAfter)}`);
  if (filter?.createdBefore) where.add((p) => `d.created_at < ${p(filter.createdBefore)}`);
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
    const where = deliveryWhere(ctx, filter);
    return retryDeliveries(ctx.pool, ctx.boss, where.toString(), where.params);
  }

  @Mutation(() => DeliveryType, { description: 'Stops a PENDING, RETRYING or HELD delivery for good' })
  async cancelDelivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    const outcome = await cancelDelivery(ctx.pool, ctx.uuid(id));
    if (outcome === 'not-found') notFound('delivery', id);
    if (typeof outcome === 'string') {
      throw new AppError('BAD_USER_INPUT', `id: only PENDING, RETRYING or HELD deliveries can be cancelled; this one is ${outcome}`, { field: 'id' });
    }
    return toDeliveryType(outcome.cancelled as unknown as DeliveryRow);
  }

  @Mutation(() => DeliveryType, { description: 'Queues a DEAD or RETRYING delivery for an attempt now' })
  async retryDelivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    const outcome = await retryDeliveryNow(ctx.pool, ctx.boss, ctx.uuid(id));
    if (outcome === 'not-found') notFound('delivery', id);
    if (typeof outcome === 'string') {
      throw new AppError('BAD_USER_INPUT', `id: only DEAD or RETRYING deliveries can be retried; this one is ${outcome}`, { field: 'id' });
    }
    return toDeliveryType(outcome.queued as unknown as DeliveryRow);
  }
}
