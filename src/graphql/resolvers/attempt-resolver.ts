import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { attemptsPage } from '../reads.js';
import { AttemptConnection, AttemptType } from '../types/attempt.js';

@Resolver(() => AttemptType)
export class AttemptResolver {
  @Query(() => AttemptConnection, { description: 'A delivery\'s attempts, newest first' })
  attempts(
    @Arg('deliveryId', () => ID) deliveryId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<AttemptConnection> {
    return attemptsPage(ctx, deliveryId, first, after);
  }
}
