import { isIP } from 'node:net';
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Keyring } from '../../crypto/keyring.js';
import { maskUrl, withoutPassword } from '../../crypto/redact.js';
import { seal, unseal, UnsealError, type SealContext } from '../../crypto/seal.js';
import { sealedAt } from '../../crypto/sealed-at.js';
import { generateSigningSecret, secretHint } from '../../crypto/tokens.js';
import { Relay } from '../../db/entities/relay.js';
import type { GraphQLContext } from '../context.js';
import { notFound } from '../errors.js';
import { checkEmailSettings, emailRelayUrl, type EmailSettings } from '../inputs/email-input.js';
import { type BatchInput, checkBatch, checkEmailRelay, checkHeaders, checkRelaySettings, checkSigningSecret, CreateRelayInput, type HeaderInput, UpdateRelayInput } from '../inputs/relay-input.js';
import { CreateRelayPayload, EmailSettingsType, RelayType, RotateRelaySecretPayload } from '../types/relay.js';
import { RelayHealth } from '../types/relay-health.js';
import { AttemptType } from '../types/attempt.js';
import { toRelayType } from '../mappers/relay.js';
import { attemptsPage } from '../reads.js';
import { inTransaction } from '../../db/transaction.js';
import { disableRelayAndAlert, enableRelay } from '../../delivery/relay-state.js';
import { releaseDeadHeads } from '../../delivery/ordering/lines.js';
import { intIn, invalid, text } from '../inputs/validate.js';

function openOrNull(keyring: Keyring, sealed: string, where: SealContext): string | null {
  try {
    return unseal(keyring, sealed, where);
  } catch (error) {
    if (error instanceof UnsealError) return null;
    throw error;
  }
}

/**
 * SSRF: a URL (or proxy URL) resolving to a private, loopback or metadata address is refused
 * naming its field; the address it resolved to goes to the log, not to the caller.
 */
async function guardUrl(ctx: GraphQLContext, url: string, field: 'url' | 'proxyUrl' | 'email.host' = 'url'): Promise<void> {
  const verdict = await ctx.checkRelayUrl(url, field === 'proxyUrl' ? 'proxy' : 'target');
  if (verdict.ok) return;
  if (verdict.detail) ctx.log.warn({ tokenId: ctx.principal.tokenId, host: new URL(url).host, field, detail: verdict.detail }, 'relay URL refused by the SSRF guard');
  invalid(field, verdict.reason);
}

/** An EMAIL relay's settings, its SMTP password sealed (an omitted password keeps the stored one), and its url derived from them. */
function setEmail(relay: Relay, keyring: Keyring, email: EmailSettings): void {
  relay.url = emailRelayUrl(email);
  relay.smtpHost = email.host;
  relay.smtpPort = email.port;
  relay.smtpTls = email.tls;
  relay.smtpUser = email.username;
  if (email.username === null || email.password === null) relay.smtpPasswordSealed = null;
  else if (email.password !== undefined) relay.smtpPasswordSealed = seal(keyring, email.password, sealedAt.relaySmtpPassword(relay.id));
  relay.emailFrom = email.from;
  relay.emailTo = email.to;
  relay.emailSubject = email.subject;
}

/** An EMAIL relay turned into an HTTP one keeps none of its email settings. */
function clearEmail(relay: Relay): void {
  relay.smtpHost = relay.smtpTls = relay.smtpUser = relay.smtpPasswordSealed = relay.emailFrom = relay.emailSubject = null;
  relay.smtpPort = null;
  relay.emailTo = null;
}

/** The SSRF guard on an SMTP server, as on a URL: a private host is refused naming email.host. */
function guardSmtpHost(ctx: GraphQLContext, email: EmailSettings): Promise<void> {
  return guardUrl(ctx, `http://${isIP(email.host) === 6 ? `[${email.host}]` : email.host}:${email.port}`, 'email.host');
}

/** A relay's batch settings as given (null: no batching), checked. */
function setBatch(relay: Relay, input: BatchInput | null | undefined): void {
  const batch = input ? checkBatch(input) : null;
  relay.batchMaxEvents = batch?.maxEvents ?? null;
  relay.batchMaxBytes = batch?.maxBytes ?? null;
  relay.batchMaxWaitMs = batch?.maxWaitMs ?? null;
}

const SETTINGS = ['timeoutMs', 'retrySchedule', 'maxAgeSeconds', 'maxConcurrency', 'rateLimitPerSecond'] as const;

function sealHeaders(keyring: Keyring, relayId: string, headers: HeaderInput[] | null | undefined): string | null {
  if (!headers || headers.length === 0) return null;
  return seal(keyring, JSON.stringify(checkHeaders(headers).map(({ name, value }) => ({ name, value }))), sealedAt.relayHeaders(relayId));
}

/** The proxy URL sealed whole (it carries a password), and shown with the password masked. */
function setProxyUrl(relay: Relay, keyring: Keyring, proxyUrl: string | null): void {
  relay.proxyUrl = proxyUrl === null ? null : withoutPassword(proxyUrl);
  relay.proxyUrlSealed = proxyUrl === null ? null : seal(keyring, proxyUrl, sealedAt.relayProxyUrl(relay.id));
}

@Resolver(() => RelayType)
export class RelayResolver {
  // Every Relay a response carries (relays, delivery.relay, subscription.relay, the live
  // relayStatusChanged) passes here, so a READ token never sees a URL's credentials.
  @FieldResolver(() => String)
  url(@Root() relay: RelayType, @Ctx() ctx: GraphQLContext): string {
    return ctx.principal.scope === 'ADMIN' ? relay.url : maskUrl(relay.url);
  }

  @FieldResolver(() => EmailSettingsType, { nullable: true })
  email(@Root() relay: RelayType, @Ctx() ctx: GraphQLContext): EmailSettingsType | null {
    if (!relay.email) return null;
    // The user name is half a credential: READ tokens see that there is one, as for the password.
    return ctx.principal.scope === 'ADMIN' || relay.email.username === null ? relay.email : { ...relay.email, username: '***' };
  }

  @FieldResolver(() => String, { nullable: true })
  proxyUrl(@Root() relay: RelayType, @Ctx() ctx: GraphQLContext): string | null {
    if (!relay.proxyUrl) return null;
    return ctx.principal.scope === 'ADMIN' ? withoutPassword(relay.proxyUrl) : maskUrl(relay.proxyUrl);
  }

  @FieldResolver(() => RelayHealth, { description: 'Success rate over the last hour and the latest error (what the console shows)' })
  health(@Root() relay: RelayType, @Ctx() ctx: GraphQLContext): Promise<RelayHealth> {
    return ctx.loaders.relayHealth.load(relay.id);
  }

  @Query(() => [RelayType], { description: 'Every relay, newest first' })
  async relays(@Ctx() ctx: GraphQLContext): Promise<RelayType[]> {
    const rows = await ctx.em.find(Relay, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
    return rows.map((row) => toRelayType(row, ctx.keyring));
  }

  @Query(() => RelayType, { nullable: true })
  async relay(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<RelayType | null> {
    const row = await ctx.em.findOne(Relay, { id: ctx.uuid(id) });
    return row ? toRelayType(row, ctx.keyring) : null;
  }

  @Mutation(() => CreateRelayPayload, { description: 'The signing secret is in the payload, this once' })
  async createRelay(@Arg('input', () => CreateRelayInput) input: CreateRelayInput, @Ctx() ctx: GraphQLContext): Promise<CreateRelayPayload> {
    const kind = input.kind ?? 'HTTP';
    if (kind === 'HTTP' && !input.url) invalid('url', 'is required for HTTP relays');
    if (kind === 'HTTP' && input.email) invalid('email', 'is only for EMAIL relays');
    if (kind === 'EMAIL' && !input.email) invalid('email', 'is required for EMAIL relays');
    const email = input.email ? checkEmailSettings(input.email) : null;
    const signingSecret = input.signingSecret ? checkSigningSecret(input.signingSecret) : generateSigningSecret();
    const relay = ctx.em.create(Relay, {
      name: input.name.trim(),
      kind,
      url: email ? emailRelayUrl(email) : input.url!,
      method: (input.method ?? 'POST').toUpperCase(),
      signingSecretSealed: '',
      signingSecretHint: secretHint(signingSecret),
    });
    // Sealed once the row has its id: each value is bound to its row and column.
    relay.signingSecretSealed = seal(ctx.keyring, signingSecret, sealedAt.relaySigningSecret(relay.id));
    relay.headersSealed = sealHeaders(ctx.keyring, relay.id, input.headers);
    for (const key of SETTINGS) if (input[key] !== undefined && input[key] !== null) (relay[key] as unknown) = input[key];
    relay.orderingKeyFrom = input.orderingKeyFrom ?? null;
    relay.orderingOnDead = input.orderingOnDead ?? 'CONTINUE';
    setBatch(relay, input.batch);
    if (email) checkEmailRelay({ ...relay, proxyUrl: input.proxyUrl }, input);
    checkRelaySettings({ ...relay, proxyUrl: input.proxyUrl });
    if (email) {
      await guardSmtpHost(ctx, email);
      setEmail(relay, ctx.keyring, email);
    } else await guardUrl(ctx, relay.url);
    if (input.proxyUrl) {
      await guardUrl(ctx, input.proxyUrl, 'proxyUrl');
      setProxyUrl(relay, ctx.keyring, input.proxyUrl);
    }
    await ctx.em.persist(relay).flush();
    return { relay: toRelayType(relay, ctx.keyring), signingSecret };
  }

  @Mutation(() => RelayType)
  async updateRelay(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateRelayInput) input: UpdateRelayInput, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    const relay = (await ctx.em.findOne(Relay, { id: ctx.uuid(id) })) ?? notFound('relay', id);
    if (input.name !== undefined && input.name !== null) relay.name = input.name.trim();
    if (input.url !== undefined && input.url !== null) relay.url = input.url;
    if (input.method !== undefined && input.method !== null) relay.method = input.method.toUpperCase();
    if (input.headers !== undefined) relay.headersSealed = sealHeaders(ctx.keyring, relay.id, input.headers);
    if (input.timeoutMs !== undefined && input.timeoutMs !== null) relay.timeoutMs = input.timeoutMs;
    if (input.maxConcurrency !== undefined && input.maxConcurrency !== null) relay.maxConcurrency = input.maxConcurrency;
    for (const key of ['retrySchedule', 'maxAgeSeconds', 'rateLimitPerSecond', 'orderingKeyFrom'] as const) {
      if (input[key] !== undefined) (relay[key] as unknown) = input[key];
    }
    if (input.batch !== undefined) setBatch(relay, input.batch);
    const releasesHeldKeys = relay.orderingOnDead === 'HOLD' && input.orderingOnDead !== undefined && input.orderingOnDead !== 'HOLD';
    if (input.orderingOnDead !== undefined) relay.orderingOnDead = input.orderingOnDead ?? 'CONTINUE';
    if (input.kind !== undefined && input.kind !== null) relay.kind = input.kind;
    const email = input.email && relay.kind === 'EMAIL' ? checkEmailSettings(input.email) : null;
    if (relay.kind === 'EMAIL') {
      if (!email && !relay.smtpHost) invalid('email', 'is required for EMAIL relays');
      checkEmailRelay({ ...relay, proxyUrl: input.proxyUrl === undefined ? relay.proxyUrl : input.proxyUrl }, input);
    } else {
      if (input.email) invalid('email', 'is only for EMAIL relays');
      if (relay.smtpHost) clearEmail(relay);
    }
    checkRelaySettings({ ...relay, proxyUrl: input.proxyUrl });
    if (email) {
      await guardSmtpHost(ctx, email);
      setEmail(relay, ctx.keyring, email);
    }
    if (input.url !== undefined && input.url !== null) await guardUrl(ctx, relay.url);
    if (input.proxyUrl) await guardUrl(ctx, input.proxyUrl, 'proxyUrl');
    if (input.proxyUrl !== undefined) setProxyUrl(relay, ctx.keyring, input.proxyUrl);
    await ctx.em.flush();
    // Keys held by a DEAD head go on now that a DEAD head no longer holds its key.
    if (releasesHeldKeys) await inTransaction(ctx.pool, (client) => releaseDeadHeads(client, ctx.boss, relay.id));
    return toRelayType(relay, ctx.keyring);
  }

  @Mutation(() => RotateRelaySecretPayload, { description: 'A new signing secret, shown once; the old one keeps signing alongside it for graceSeconds (default 24 h)' })
  async rotateRelaySecret(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('graceSeconds', () => Int, { defaultValue: 86_400 }) graceSeconds: number,
  ): Promise<RotateRelaySecretPayload> {
    intIn('graceSeconds', graceSeconds, 0, 30 * 86_400);
    const relay = (await ctx.em.findOne(Relay, { id: ctx.uuid(id) })) ?? notFound('relay', id);
    const signingSecret = generateSigningSecret();
    // Re-sealed, not copied: a value is bound to its column. One this process cannot open
    // could not sign anyway.
    const previous = graceSeconds > 0 ? openOrNull(ctx.keyring, relay.signingSecretSealed, sealedAt.relaySigningSecret(relay.id)) : null;
    relay.previousSigningSecretSealed = previous === null ? null : seal(ctx.keyring, previous, sealedAt.relayPreviousSigningSecret(relay.id));
    relay.previousSigningSecretExpiresAt = previous === null ? null : new Date(Date.now() + graceSeconds * 1000);
    relay.signingSecretSealed = seal(ctx.keyring, signingSecret, sealedAt.relaySigningSecret(relay.id));
    relay.signingSecretHint = secretHint(signingSecret);
    await ctx.em.flush();
    return { relay: toRelayType(relay, ctx.keyring), signingSecret };
  }

  @Mutation(() => RelayType, { description: 'Enables the relay and queues every HELD delivery of it now' })
  async enableRelay(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    const relayId = ctx.uuid(id);
    const found = await inTransaction(ctx.pool, async (client) => {
      const exists = await client.query('select 1 from relay where id = $1 for update', [relayId]);
      if (exists.rowCount === 0) return false;
      await enableRelay(client, ctx.boss, relayId);
      return true;
    });
    if (!found) notFound('relay', id);
    return toRelayType((await ctx.em.fork().findOne(Relay, { id: relayId }))!, ctx.keyring);
  }

  @Mutation(() => RelayType, { description: 'Disables the relay: its waiting and new deliveries are HELD until enableRelay' })
  async disableRelay(@Arg('id', () => ID) id: string, @Arg('reason') reason: string, @Ctx() ctx: GraphQLContext): Promise<RelayType> {
    const relayId = ctx.uuid(id);
    const why = text('reason', reason, 500);
    const found = await inTransaction(ctx.pool, async (client) => {
      const exists = await client.query('select 1 from relay where id = $1 for update', [relayId]);
      if (exists.rowCount === 0) return false;
      await disableRelayAndAlert(client, ctx.boss, ctx.alertRelayId, relayId, why);
      return true;
    });
    if (!found) notFound('relay', id);
    return toRelayType((await ctx.em.fork().findOne(Relay, { id: relayId }))!, ctx.keyring);
  }

  @Mutation(() => AttemptType, { description: 'Sends a signed hookyard.test event to the relay now and returns the attempt' })
  async sendTestEvent(@Arg('relayId', () => ID) relayId: string, @Ctx() ctx: GraphQLContext): Promise<AttemptType> {
    const attemptId = await ctx.sendTestEvent(ctx.uuid(relayId));
    if (!attemptId) notFound('relay', relayId);
    const page = await attemptsPage(ctx, (await ctx.pool.query<{ delivery_id: string }>('select delivery_id from attempt where id = $1', [attemptId])).rows[0]!.delivery_id, 1);
    return page.edges[0]!.node;
  }

  @Mutation(() => ID, { description: 'Deletes the relay with its subscriptions, deliveries and attempts' })
  async deleteRelay(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    const relay = (await ctx.em.findOne(Relay, { id: ctx.uuid(id) })) ?? notFound('relay', id);
    await ctx.em.remove(relay).flush();
    return id;
  }
}
