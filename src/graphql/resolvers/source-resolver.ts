import { Ctx, Query, Resolver } from 'type-graphql';
import { Source } from '../../db/entities/source.js';
import type { GraphQLContext } from '../context.js';
import { SourceType } from '../types/source.js';

export function toSourceType(source: Source, publicUrl: string): SourceType {
  return {
    id: source.id,
    name: source.name,
    slug: source.slug,
    preset: source.preset,
    enabled: source.enabled,
    ingestUrl: `${publicUrl}/ingest/${source.slug}`,
    hasSecret: source.secrets.length > 0,
  };
}

@Resolver(() => SourceType)
export class SourceResolver {
  @Query(() => [SourceType], { description: 'Every source, newest first' })
  async sources(@Ctx() ctx: GraphQLContext): Promise<SourceType[]> {
    const rows = await ctx.em.find(Source, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return rows.map((row) => toSourceType(row, ctx.publicUrl));
  }
}
