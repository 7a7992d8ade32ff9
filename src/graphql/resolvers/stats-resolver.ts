import { Arg, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { DeliveryStatus } from '../../db/entities/delivery.js';
import { DELIVERY_STATUSES } from '../../db/entities/delivery.js';
import type { GraphQLContext } from '../context.js';
import { DeliveryStatusEnum } from '../types/enums.js';

@ObjectType()
export class DeliveryStatusCount {
  @Field(() => DeliveryStatusEnum)
  status!: DeliveryStatus;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'Counts since a point in time' })
export class Stats {
  @Field()
  since!: Date;

  @Field(() => Int)
  events!: number;

  @Field(() => Int)
  rejectedRequests!: number;

  @Field(() => [DeliveryStatusCount], { description: 'Deliveries created since then, by current status' })
  deliveries!: DeliveryStatusCount[];
}

@Resolver(() => Stats)
export class StatsResolver {
  @Query(() => Stats)
  async stats(
    @Ctx() ctx: GraphQLContext,
    @Arg('since', () => Date, { nullable: true, description: 'Default: 24 hours ago. An earlier time counts from the start of the retention window (HOOKYARD_RETENTION_HOURS), as nothing older is kept' }) since?: Date | null,
  ): Promise<Stats> {
    // Clamped so that an old `since` cannot make the three counts scan more than is kept.
    const oldest = Date.now() - ctx.retentionHours * 3600 * 1000;
    const from = new Date(Math.max((since ?? new Date(Date.now() - 24 * 3600 * 1000)).getTime(), oldest));
    const { rows } = await ctx.pool.query<{ events: string; rejected: string; by_status: Record<string, string> | null }>(
      `select (select count(*) from event where received_at >= $1) as events,
              (select coalesce(sum(count), 0) from rejected_request where received_at >= $1) as rejected,
              (select jsonb_object_agg(status, n) from (select status, count(*) as n from delivery where created_at >= $1 group by status) s) as by_status`,
      [from],
    );
    const row = rows[0]!;
    return {
      since: from,
      events: Number(row.events),
      rejectedRequests: Number(row.rejected),
      deliveries: DELIVERY_STATUSES.map((status) => ({ status, count: Number(row.by_status?.[status] ?? 0) })),
    };
  }
}
