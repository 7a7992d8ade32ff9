import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { seal } from '../../crypto/seal.js';
import { sealedAt } from '../../crypto/sealed-at.js';
import { Source } from '../../db/entities/source.js';
import { channels } from '../../db/notify/channels.js';
import { notify } from '../../db/notify/send.js';
import { MAX_LIVE_SECRETS, newSecret, rotateSecrets } from '../../sources/secrets.js';
import type { GraphQLContext } from '../context.js';
import { notFound, uniqueViolation } from '../errors.js';
import { checkSecret, checkSourceSettings, CreateSourceInput, UpdateSourceInput } from '../inputs/source-input.js';
import { intIn, invalid } from '../inputs/validate.js';
import { toSourceType } from '../mappers/source.js';
import { SourceType } from '../types/source.js';

/** Plain settings copied from an input onto the entity: undefined = unchanged, null = cleared. */
const SETTINGS = [
  'toleranceSeconds', 'maxBodyBytes', 'publicUrl', 'rateLimitPerSecond', 'signatureHeader', 'signatureAlgorithm',
  'signatureEncoding', 'signaturePrefix', 'timestampHeader', 'eventTypeFrom', 'idempotencyKeyFrom', 'basicAuthUsername',
  'allowedCidrs', 'dedupeWindowSeconds',
] as const;

/** Stored lower-case, as the ingest route looks headers up. */
function keepHeaders(names: string[] | null | undefined): string[] | null {
  return names && names.length > 0 ? [...new Set(names.map((name) => name.toLowerCase()))] : null;
}

/** Every API replica drops its cached copy of these slugs (sources/source-cache.ts). */
async function announce(ctx: GraphQLContext, ...slugs: string[]): Promise<void> {
  await notify(ctx.pool, channels.source, [...new Set(slugs)]);
}

/** The built-in source of operational events stays as the migration made it: Hookyard writes its events, nobody posts to it. */
function editable(source: Source): Source {
  if (source.builtin) invalid('id', 'is the built-in source of Hookyard\'s operational events: it cannot be changed or deleted (subscribe to it instead)');
  return source;
}

function check(source: Source): void {
  checkSourceSettings({ ...source, hasBasicAuthPassword: Boolean(source.basicAuthPasswordSealed) });
}

@Resolver(() => SourceType)
export class SourceResolver {
  @Query(() => [SourceType], { description: 'Every source, newest first' })
  async sources(@Ctx() ctx: GraphQLContext): Promise<SourceType[]> {
    const rows = await ctx.em.find(Source, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return rows.map((row) => toSourceType(row, ctx.publicUrl));
  }

  @Query(() => SourceType, { nullable: true })
  async source(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<SourceType | null> {
    const row = await ctx.em.findOne(Source, { id: ctx.uuid(id) });
    return row ? toSourceType(row, ctx.publicUrl) : null;
  }

  @Query(() => SourceType, { description: 'The built-in source of Hookyard\'s operational events: name its id in a subscription\'s sourceIds to receive them' })
  async operationsSource(@Ctx() ctx: GraphQLContext): Promise<SourceType> {
    // Made by a migration: every migrated database has it.
    const row = await ctx.em.findOneOrFail(Source, { builtin: true });
    return toSourceType(row, ctx.publicUrl);
  }

  @Mutation(() => SourceType)
  async createSource(@Arg('input', () => CreateSourceInput) input: CreateSourceInput, @Ctx() ctx: GraphQLContext): Promise<SourceType> {
    if (!input.secret) invalid('secret', `is required: the signing secret ${input.preset} gives you`);
    checkSecret(input.preset, input.secret);
    const source = ctx.em.create(Source, {
      name: input.name.trim(),
      slug: input.slug,
      preset: input.preset,
      secrets: [],
      requireIdempotencyKey: input.requireIdempotencyKey ?? false,
    });
    // Sealed once the row has its id: each value is bound to its row and column.
    source.secrets = [newSecret(seal(ctx.keyring, input.secret, sealedAt.sourceSecrets(source)), new Date())];
    source.basicAuthPasswordSealed = input.basicAuthPassword ? seal(ctx.keyring, input.basicAuthPassword, sealedAt.sourcePassword(source)) : null;
    for (const key of SETTINGS) if (input[key] !== undefined) (source[key] as unknown) = input[key];
    if (input.keepHeaders !== undefined) source.keepHeaders = keepHeaders(input.keepHeaders);
    check(source);
    await ctx.em.persist(source).flush().catch(uniqueViolation('source_slug_unique', 'slug', `"${input.slug}" is already taken`));
    // No replica caches a miss (sources/source-cache.ts); announced like every write to a source, so that rule has no exception.
    await announce(ctx, source.slug);
    return toSourceType(source, ctx.publicUrl);
  }

  @Mutation(() => SourceType)
  async updateSource(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateSourceInput) input: UpdateSourceInput, @Ctx() ctx: GraphQLContext): Promise<SourceType> {
    const source = editable((await ctx.em.findOne(Source, { id: ctx.uuid(id) })) ?? notFound('source', id));
    const previousSlug = source.slug;
    if (input.name !== undefined && input.name !== null) source.name = input.name.trim();
    if (input.slug !== undefined && input.slug !== null) source.slug = input.slug;
    if (input.enabled !== undefined && input.enabled !== null) source.enabled = input.enabled;
    if (input.requireIdempotencyKey !== undefined && input.requireIdempotencyKey !== null) source.requireIdempotencyKey = input.requireIdempotencyKey;
    if (input.secret !== undefined && input.secret !== null) {
      checkSecret(source.preset, input.secret);
      source.secrets = [newSecret(seal(ctx.keyring, input.secret, sealedAt.sourceSecrets(source)), new Date())];
    }
    if (input.basicAuthPassword !== undefined) source.basicAuthPasswordSealed = input.basicAuthPassword ? seal(ctx.keyring, input.basicAuthPassword, sealedAt.sourcePassword(source)) : null;
    for (const key of SETTINGS) if (input[key] !== undefined) (source[key] as unknown) = input[key];
    if (input.keepHeaders !== undefined) source.keepHeaders = keepHeaders(input.keepHeaders);
    check(source);
    await ctx.em.flush().catch(uniqueViolation('source_slug_unique', 'slug', `"${source.slug}" is already taken`));
    await announce(ctx, previousSlug, source.slug);
    return toSourceType(source, ctx.publicUrl);
  }

  @Mutation(() => SourceType, { description: 'Adds the provider\'s new secret; the current ones keep verifying for expireOldAfterSeconds (default 24 h)' })
  async rotateSourceSecret(
    @Arg('id', () => ID) id: string,
    @Arg('secret') secret: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('expireOldAfterSeconds', () => Int, { defaultValue: 86_400 }) expireOldAfterSeconds: number,
  ): Promise<SourceType> {
    const source = editable((await ctx.em.findOne(Source, { id: ctx.uuid(id) })) ?? notFound('source', id));
    checkSecret(source.preset, secret);
    intIn('expireOldAfterSeconds', expireOldAfterSeconds, 0, 30 * 86_400);
    const now = new Date();
    const rotated = rotateSecrets(source.secrets, newSecret(seal(ctx.keyring, secret, sealedAt.sourceSecrets(source)), now), now, expireOldAfterSeconds);
    if (rotated === 'too-many') invalid('secret', `a source holds at most ${MAX_LIVE_SECRETS} live secrets; let older ones expire first`);
    source.secrets = rotated;
    await ctx.em.flush();
    await announce(ctx, source.slug);
    return toSourceType(source, ctx.publicUrl, now);
  }

  @Mutation(() => ID, { description: 'Deletes the source; its stored events stay, without a source' })
  async deleteSource(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    const source = editable((await ctx.em.findOne(Source, { id: ctx.uuid(id) })) ?? notFound('source', id));
    await ctx.em.remove(source).flush();
    await announce(ctx, source.slug);
    return id;
  }
}
