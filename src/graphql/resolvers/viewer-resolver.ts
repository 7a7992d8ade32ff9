import { Ctx, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { Viewer } from '../types/viewer.js';

@Resolver(() => Viewer)
export class ViewerResolver {
  // From the request's principal: no SQL, and READ tokens may ask (they need it most).
  @Query(() => Viewer, { description: 'The caller\'s own token: its name and scope' })
  viewer(@Ctx() ctx: GraphQLContext): Viewer {
    return { tokenName: ctx.principal.tokenName, scope: ctx.principal.scope };
  }
}
