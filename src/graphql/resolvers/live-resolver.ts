import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import { EventType } from '../types/event.js';
import { loadEvent } from './event-resolver.js';
import type { LiveDelivery } from '../../live/delivery-feed.js';
import type { GraphQLContext } from '../context.js';
import { liveIterator } from '../live-iterator.js';
import { DeliveryFilter, DeliveryType } from '../types/delivery.js';
import { toDeliveryType } from './delivery-resolver.js';
import { Relay } from '../../db/entities/relay.js';
import { RelayType } from '../types/relay.js';
import { toRelayType } from './relay-resolver.js';

function matches(filter: DeliveryFilter | null | undefined, d: LiveDelivery): boolean {
  if (!filter) return true;
  if (filter.eventId && filter.eventId.toLowerCase() !== d.event_id) return false;
  if (filter.relayId && filter.relayId.toLowerCase() !== d.relay_id) return false;
  if (filter.sourceId && filter.sourceId.toLowerCase() !== d.source_id) return false;
  if (filter.eventType && filter.eventType !== d.event_type) return false;
  if (filter.status && filter.status.length > 0 && !filter.status.includes(d.status)) return false;
  if (filter.createdAfter && new Date(d.created_at) <= filter.createdAfter) return false;
  if (filter.createdBefore && new Date(d.created_at) >= filter.createdBefore) return false;
  return true;
}

@Resolver()
export class LiveResolver {
  @Subscription(() => DeliveryType, {
    description: 'Every status a matching delivery passes through, in order, from any process',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const filter = (args as { filter?: DeliveryFilter | null }).filter;
      return liveIterator<LiveDelivery>(ctx, (emit) => ctx.live.listen((delivery) => {
        if (matches(filter, delivery)) emit(delivery);
      }));
    },
  })
  deliveryUpdated(
    @Root() delivery: LiveDelivery,
    @Ctx() _ctx: GraphQLContext,
    @Arg('filter', () => DeliveryFilter, { nullable: true }) _filter?: DeliveryFilter | null,
  ): DeliveryType {
    return toDeliveryType(delivery);
  }

  @Subscription(() => EventType, {
    description: 'Every event accepted from then on (of one source, when sourceId is given), on any process',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      const sourceId = (args as { sourceId?: string | null }).sourceId?.toLowerCase() ?? null;
      return liveIterator<string>(ctx, (emit) => ctx.eventFeed.listen((event) => {
        if (sourceId === null || event.sourceId === sourceId) emit(event.id);
      }));
    },
  })
  async eventReceived(
    @Root() eventId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('sourceId', () => ID, { nullable: true }) _sourceId?: string | null,
  ): Promise<EventType> {
    return (await loadEvent(ctx, eventId))!;
  }

  @Subscription(() => RelayType, {
    description: 'A relay was disabled (automatically or by hand) or enabled, on any process',
    subscribe: ({ context }) => {
      const ctx = context as GraphQLContext;
      return liveIterator<string>(ctx, (emit) => ctx.relayFeed.listen(emit));
    },
  })
  async relayStatusChanged(@Root() relayId: string, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    const relay = await ctx.em.fork().findOne(Relay, { id: relayId });
    return toRelayType(relay!, ctx.keyring);
  }
}
