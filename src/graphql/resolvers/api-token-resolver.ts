import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { generateApiToken, hashToken } from '../../crypto/tokens.js';
import { ApiToken } from '../../db/entities/api-token.js';
import { channels } from '../../db/notify/channels.js';
import { notify } from '../../db/notify/send.js';
import type { GraphQLContext } from '../context.js';
import { notFound } from '../errors.js';
import { invalid, text } from '../inputs/validate.js';
import { ApiTokenType, CreateApiTokenInput, CreateApiTokenPayload } from '../types/api-token.js';

function toApiTokenType(token: ApiToken): ApiTokenType {
  return {
    id: token.id,
    name: token.name,
    scope: token.scope,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt ?? null,
    revokedAt: token.revokedAt ?? null,
    expiresAt: token.expiresAt ?? null,
  };
}

@Resolver(() => ApiTokenType)
export class ApiTokenResolver {
  @Query(() => [ApiTokenType], { description: 'Every token, revoked ones included, newest first' })
  async apiTokens(@Ctx() ctx: GraphQLContext): Promise<ApiTokenType[]> {
    const tokens = await ctx.em.find(ApiToken, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return tokens.map(toApiTokenType);
  }

  @Mutation(() => CreateApiTokenPayload, { description: 'The token is in the payload, this once' })
  async createApiToken(@Arg('input', () => CreateApiTokenInput) input: CreateApiTokenInput, @Ctx() ctx: GraphQLContext): Promise<CreateApiTokenPayload> {
    const name = text('name', input.name);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) invalid('expiresAt', 'must lie in the future');
    const token = generateApiToken();
    const row = ctx.em.create(ApiToken, { name, scope: input.scope, tokenHash: hashToken(token), expiresAt: input.expiresAt ?? null });
    await ctx.em.persist(row).flush();
    return { apiToken: toApiTokenType(row), token };
  }

  @Mutation(() => ApiTokenType, { description: 'Refuses the token from now on; its open websockets close with 4403' })
  async revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ApiTokenType> {
    const token = (await ctx.em.findOne(ApiToken, { id: ctx.uuid(id) })) ?? notFound('API token', id);
    if (!token.revokedAt) {
      token.revokedAt = new Date();
      await ctx.em.flush();
      await notify(ctx.pool, channels.tokenRevoked, [token.id]);
    }
    return toApiTokenType(token);
  }
}
