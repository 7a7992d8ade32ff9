import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { EventSubscription } from '../../db/entities/event-subscription.js';
import { Relay } from '../../db/entities/relay.js';
import { Source } from '../../db/entities/source.js';
import { AppError } from '../../errors.js';
import type { GraphQLContext } from '../context.js';
import { notFound } from '../errors.js';
import { checkEventTypes, checkFilter, checkForwardHeaders, CreateSubscriptionInput, UpdateSubscriptionInput } from '../inputs/subscription-input.js';
import { EventSubscriptionType } from '../types/subscription.js';
import { RelayType } from '../types/relay.js';
import { toRelayType } from '../mappers/relay.js';
import { toSubscriptionType } from '../mappers/subscription.js';

async function checkReferences(ctx: GraphQLContext, relayId: string | undefined, sourceIds: string[] | null | undefined): Promise<void> {
  if (relayId !== undefined && !(await ctx.em.findOne(Relay, { id: ctx.uuid(relayId) }))) {
    throw new AppError('NOT_FOUND', `relayId: no relay with id ${relayId}`, { field: 'relayId' });
  }
  if (sourceIds && sourceIds.length > 0) {
    const found = await ctx.em.find(Source, { id: { $in: sourceIds.map(ctx.uuid) } });
    const missing = sourceIds.filter((id) => !found.some((s) => s.id === id.toLowerCase()));
    if (missing.length > 0) throw new AppError('NOT_FOUND', `sourceIds: no source with id ${missing.join(', ')}`, { field: 'sourceIds' });
  }
}

@Resolver(() => EventSubscriptionType)
export class SubscriptionResolver {
  @Query(() => [EventSubscriptionType], { description: 'Every subscription, newest first' })
  async subscriptions(@Ctx() ctx: GraphQLContext): Promise<EventSubscriptionType[]> {
    const rows = await ctx.em.find(EventSubscription, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return rows.map(toSubscriptionType);
  }

  @Query(() => EventSubscriptionType, { nullable: true })
  async subscription(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<EventSubscriptionType | null> {
    const row = await ctx.em.findOne(EventSubscription, { id: ctx.uuid(id) });
    return row ? toSubscriptionType(row) : null;
  }

  @FieldResolver(() => RelayType)
  async relay(@Root() subscription: EventSubscriptionType, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    const relay = await ctx.loaders.relay.load(subscription.relayId);
    return toRelayType(relay!, ctx.keyring);
  }

  @Mutation(() => EventSubscriptionType)
  async createSubscription(@Arg('input', () => CreateSubscriptionInput) input: CreateSubscriptionInput, @Ctx() ctx: GraphQLContext): Promise<EventSubscriptionType> {
    checkEventTypes(input.eventTypes);
    const filter = checkFilter(input.filter);
    const forwardHeaders = input.forwardHeaders ? checkForwardHeaders(input.forwardHeaders) : null;
    await checkReferences(ctx, input.relayId, input.sourceIds);
    const subscription = ctx.em.create(EventSubscription, {
      relay: ctx.em.getReference(Relay, ctx.uuid(input.relayId)),
      sourceIds: input.sourceIds && input.sourceIds.length > 0 ? input.sourceIds.map((id) => id.toLowerCase()) : null,
      eventTypes: input.eventTypes,
      filter,
      forwardHeaders,
    });
    await ctx.em.persist(subscription).flush();
    return toSubscriptionType(subscription);
  }

  @Mutation(() => EventSubscriptionType)
  async updateSubscription(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateSubscriptionInput) input: UpdateSubscriptionInput, @Ctx() ctx: GraphQLContext): Promise<EventSubscriptionType> {
    const subscription = (await ctx.em.findOne(EventSubscription, { id: ctx.uuid(id) })) ?? notFound('subscription', id);
    await checkReferences(ctx, input.relayId ?? undefined, input.sourceIds);
    if (input.relayId) subscription.relay = ctx.em.getReference(Relay, ctx.uuid(input.relayId));
    if (input.sourceIds !== undefined) subscription.sourceIds = input.sourceIds && input.sourceIds.length > 0 ? input.sourceIds.map((s) => s.toLowerCase()) : null;
    if (input.eventTypes) subscription.eventTypes = checkEventTypes(input.eventTypes);
    if (input.filter !== undefined) subscription.filter = checkFilter(input.filter);
    if (input.forwardHeaders !== undefined) subscription.forwardHeaders = input.forwardHeaders ? checkForwardHeaders(input.forwardHeaders) : null;
    if (input.enabled !== undefined && input.enabled !== null) subscription.enabled = input.enabled;
    await ctx.em.flush();
    return toSubscriptionType(subscription);
  }

  @Mutation(() => ID)
  async deleteSubscription(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    const subscription = (await ctx.em.findOne(EventSubscription, { id: ctx.uuid(id) })) ?? notFound('subscription', id);
    await ctx.em.remove(subscription).flush();
    return id;
  }
}
