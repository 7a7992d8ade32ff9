import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { publishEvent } from '../../events/publish.js';
import { parseJsonOrUndefined } from '../../lenient-json.js';
import { replayEvent } from '../../events/replay.js';
import { notFound } from '../errors.js';
import { invalid, text } from '../inputs/validate.js';
import { DeliveryType } from '../types/delivery.js';
import type { GraphQLContext } from '../context.js';
import { keysetPage, Where } from '../pagination.js';
import { rows } from '../rows.js';
import { EventConnection, EventFilter, EventType } from '../types/event.js';
import { EVENT_COLUMNS, toEventType, type EventRow } from '../mappers/event.js';
import { toSourceType } from '../mappers/source.js';
import { loadDelivery, loadEvent } from '../reads.js';
import { SourceType } from '../types/source.js';

@Resolver(() => EventType)
export class EventResolver {
  @Query(() => EventConnection, { description: 'Stored events, newest first' })
  async events(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => EventFilter, { nullable: true }) filter?: EventFilter | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<EventConnection> {
    const where = new Where();
    if (filter?.sourceId) where.add((p) => `e.source_id = ${p(ctx.uuid(filter.sourceId!))}`);
    if (filter?.type) where.add((p) => `e.type = ${p(filter.type)}`);
    if (filter?.idempotencyKey) where.add((p) => `e.idempotency_key = ${p(filter.idempotencyKey)}`);
    if (filter?.receivedAfter) where.add((p) => `e.received_at > ${p(filter.receivedAfter)}`);
    if (filter?.receivedBefore) where.add((p) => `e.received_at < ${p(filter.receivedBefore)}`);
    return keysetPage(rows<EventRow>(ctx.pool), { from: 'event e', alias: 'e', timeColumn: 'e.received_at', select: EVENT_COLUMNS, where, first, after, map: toEventType });
  }

  @Query(() => EventType, { nullable: true })
  async event(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<EventType | null> {
    return loadEvent(ctx, id);
  }

  @Mutation(() => EventType, { description: 'Stores an internal event and fans it out like an inbound one; a repeated idempotencyKey returns the first event' })
  async publishEvent(
    @Arg('type') type: string,
    @Arg('payload', () => GraphQLJSON) payload: unknown,
    @Ctx() ctx: GraphQLContext,
    @Arg('idempotencyKey', () => String, { nullable: true }) idempotencyKey?: string | null,
  ): Promise<EventType> {
    const eventType = text('type', type);
    if (/\s/.test(eventType)) invalid('type', 'must not contain whitespace');
    if (idempotencyKey !== undefined && idempotencyKey !== null) text('idempotencyKey', idempotencyKey, 500);
    let result;
    try {
      result = await publishEvent(ctx.pool, ctx.boss, { type: eventType, payload, idempotencyKey: idempotencyKey ?? null });
    } catch (error) {
      if (error instanceof RangeError) invalid('payload', error.message);
      throw error;
    }
    return (await loadEvent(ctx, result.id))!;
  }

  @Mutation(() => [DeliveryType], { description: 'Fans the event out again against today\'s subscriptions (same webhook-id)' })
  async replayEvent(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType[]> {
    const fanned = await replayEvent(ctx.pool, ctx.boss, ctx.uuid(id));
    if (!fanned) notFound('event', id);
    const loaded = await Promise.all(fanned.map((d) => loadDelivery(ctx, d.id)));
    return loaded.filter((d): d is DeliveryType => d !== null);
  }

  @FieldResolver(() => SourceType, { nullable: true })
  async source(@Root() event: EventType, @Ctx() ctx: GraphQLContext): Promise<SourceType | null> {
    if (!event.sourceId) return null;
    const source = await ctx.loaders.source.load(event.sourceId);
    return source ? toSourceType(source, ctx.publicUrl) : null;
  }

  @FieldResolver(() => String)
  body(@Root() event: EventType): string {
    return event.rawBody.toString('utf8');
  }

  @FieldResolver(() => GraphQLJSON, { nullable: true })
  payload(@Root() event: EventType): unknown {
    return parseJsonOrUndefined(event.rawBody) ?? null;
  }
}
