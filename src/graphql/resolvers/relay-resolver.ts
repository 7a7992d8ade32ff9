import { Ctx, Query, Resolver } from 'type-graphql';
import { Relay } from '../../db/entities/relay.js';
import { DEFAULT_SCHEDULE_SECONDS } from '../../delivery/retry-policy.js';
import type { GraphQLContext } from '../context.js';
import { RelayType } from '../types/relay.js';

export function toRelayType(relay: Relay): RelayType {
  return {
    id: relay.id,
    name: relay.name,
    url: relay.url,
    enabled: relay.enabled,
    disabledReason: relay.disabledReason ?? null,
    retrySchedule: relay.retrySchedule ?? [...DEFAULT_SCHEDULE_SECONDS],
    timeoutMs: relay.timeoutMs,
    signingSecretHint: relay.signingSecretHint,
  };
}

@Resolver(() => RelayType)
export class RelayResolver {
  @Query(() => [RelayType], { description: 'Every relay, newest first' })
  async relays(@Ctx() ctx: GraphQLContext): Promise<RelayType[]> {
    const rows = await ctx.em.find(Relay, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return rows.map(toRelayType);
  }
}
