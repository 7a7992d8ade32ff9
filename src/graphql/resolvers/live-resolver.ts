import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import { EventType } from '../types/event.js';
import type { LiveDelivery } from '../../live/delivery-feed.js';
import type { EventArrival } from '../../live/event-feed.js';
import type { GraphQLContext } from '../context.js';
import { encodeFeedCursor, resumePoint } from '../feed-cursor.js';
import { liveIterator } from '../live-iterator.js';
import { DeliveryFilter, DeliveryType } from '../types/delivery.js';
import { Relay } from '../../db/entities/relay.js';
import { RelayType } from '../types/relay.js';
import { toDeliveryType } from '../mappers/delivery.js';
import { toRelayType } from '../mappers/relay.js';
import { loadEvent } from '../reads.js';

/** The filter as a predicate, its ids lowered once per subscription rather than once per change. */
function matcher(filter: DeliveryFilter | null | undefined): (d: LiveDelivery) => boolean {
  if (!filter) return () => true;
  const eventId = filter.eventId?.toLowerCase();
  const relayId = filter.relayId?.toLowerCase();
  const subscriptionId = filter.subscriptionId?.toLowerCase();
  const sourceId = filter.sourceId?.toLowerCase();
  const { eventType, createdAfter, createdBefore } = filter;
  const status = filter.status && filter.status.length > 0 ? filter.status : undefined;
  return (d) => {
    if (eventId && eventId !== d.event_id) return false;
    if (relayId && relayId !== d.relay_id) return false;
    if (subscriptionId && subscriptionId !== d.subscription_id) return false;
    if (sourceId && sourceId !== d.source_id) return false;
    if (eventType && eventType !== d.event_type) return false;
    if (status && !status.includes(d.status)) return false;
    if (createdAfter && new Date(d.created_at) <= createdAfter) return false;
    if (createdBefore && new Date(d.created_at) >= createdBefore) return false;
    return true;
  };
}

const AFTER_DESCRIPTION = 'The feedCursor of the last item received: every matching item after it is sent first, from storage, then the live ones';

@Resolver()
export class LiveResolver {
  @Subscription(() => DeliveryType, {
    description: 'Every status a matching delivery passes through, in order, from any process; with after, resumed from a cursor',
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const { filter, after } = args as { filter?: DeliveryFilter | null; after?: string | null };
      const keep = matcher(filter);
      const resume = after == null ? undefined : { after: await resumePoint(ctx.deliveryFeed, after), ready: () => ctx.deliveryFeed.ready(), read: (from: number, limit: number) => ctx.deliveryFeed.read(from, limit), keep };
      // A relay's subscriber hears that relay's changes only (the feed's partition), not all of them.
      return liveIterator<LiveDelivery>(ctx, (emit) => ctx.deliveryFeed.listen((delivery, seq) => {
        if (keep(delivery)) emit(delivery, seq);
      }, filter?.relayId?.toLowerCase() ?? undefined), undefined, resume);
    },
  })
  deliveryUpdated(
    @Root() delivery: LiveDelivery,
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => DeliveryFilter, { nullable: true }) _filter?: DeliveryFilter | null,
    @Arg('after', () => String, { nullable: true, description: AFTER_DESCRIPTION }) _after?: string | null,
  ): DeliveryType {
    return { ...toDeliveryType(delivery), feedCursor: encodeFeedCursor(ctx.deliveryFeed.changeLog.name, delivery.seq) };
  }

  @Subscription(() => EventType, {
    description: 'Every event accepted from then on (of one source, when sourceId is given), on any process; with after, resumed from a cursor',
    subscribe: async ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const { after } = args as { after?: string | null };
      const sourceId = (args as { sourceId?: string | null }).sourceId?.toLowerCase() ?? null;
      const keep = (event: EventArrival): boolean => sourceId === null || event.sourceId === sourceId;
      const resume = after == null ? undefined : { after: await resumePoint(ctx.eventFeed, after), ready: () => ctx.eventFeed.ready(), read: (from: number, limit: number) => ctx.eventFeed.read(from, limit), keep };
      return liveIterator<EventArrival>(ctx, (emit) => ctx.eventFeed.listen((event, seq) => {
        if (keep(event)) emit(event, seq);
      }), undefined, resume);
    },
  })
  async eventReceived(
    @Root() event: EventArrival,
    @Ctx() ctx: GraphQLContext,
    @Arg('sourceId', () => ID, { nullable: true }) _sourceId?: string | null,
    @Arg('after', () => String, { nullable: true, description: AFTER_DESCRIPTION }) _after?: string | null,
  ): Promise<EventType> {
    const loaded = (await loadEvent(ctx, event.id))!;
    return { ...loaded, feedCursor: encodeFeedCursor(ctx.eventFeed.changeLog.name, event.seq) };
  }

  @Subscription(() => RelayType, {
    description: 'A relay was disabled (automatically or by hand) or enabled, on any process',
    subscribe: ({ context }) => {
      const ctx = context as GraphQLContext;
      return liveIterator<string>(ctx, (emit) => ctx.relayFeed.listen((relayId) => emit(relayId, 0)));
    },
  })
  async relayStatusChanged(@Root() relayId: string, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    const relay = await ctx.em.fork().findOne(Relay, { id: relayId });
    return toRelayType(relay!, ctx.keyring);
  }
}
