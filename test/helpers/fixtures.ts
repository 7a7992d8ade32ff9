import type { IncomingHttpHeaders } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { seal } from '../../src/crypto/seal.js';
import { sealedAt } from '../../src/crypto/sealed-at.js';
import type { Keyring } from '../../src/crypto/keyring.js';
import { generateSigningSecret, secretHint } from '../../src/crypto/tokens.js';
import { EventSubscription, Relay, Source } from '../../src/db/entities/index.js';
import type { SourcePreset } from '../../src/db/entities/source.js';
import type { IngestSource } from '../../src/sources/presets/preset.js';
import { createIngestRequest, type IngestRequest } from '../../src/sources/request.js';

/** A source as the ingest path sees it, every setting at its default (for the preset tests). */
export function ingestSource(overrides: Partial<IngestSource> = {}): IngestSource {
  return {
    id: 's', slug: 's', preset: 'HMAC', enabled: true, secrets: ['secret'], secretError: null, toleranceSeconds: null,
    maxBodyBytes: 1024 * 1024, requireIdempotencyKey: false, signatureHeader: null, signatureAlgorithm: null, signatureEncoding: null,
    signaturePrefix: null, timestampHeader: null, publicUrl: null, basicAuth: null, rateLimitPerSecond: null, allowedAddress: null,
    dedupeWindowSeconds: null, eventTypeFrom: null, idempotencyKeyFrom: null, keepHeaders: [], ...overrides,
  };
}

/** A request as the ingest route hands it to a preset. */
export function ingestRequest(headers: IncomingHttpHeaders, body: string | Buffer, query = ''): IngestRequest {
  return createIngestRequest(headers, new URLSearchParams(query), Buffer.isBuffer(body) ? body : Buffer.from(body));
}

/**
 * Sources, relays and subscriptions straight through the ORM (the GraphQL API arrives with
 * the next issue); secrets sealed exactly as the app seals them.
 */
export interface Fixtures {
  source(input: { slug: string; preset: SourcePreset; secret: string; basicAuthPassword?: string } & Partial<Omit<Source, 'secrets' | 'basicAuthPasswordSealed'>>): Promise<Source>;
  relay(input: { url: string } & Partial<Omit<Relay, 'signingSecretSealed'>>): Promise<{ relay: Relay; signingSecret: string }>;
  subscription(input: { relay: Relay; eventTypes?: string[]; sourceIds?: string[] | null; forwardHeaders?: string[]; filter?: unknown }): Promise<EventSubscription>;
}

export function fixtures(orm: MikroORM, keyring: Keyring): Fixtures {
  return {
    async source({ slug, preset, secret, basicAuthPassword, ...rest }) {
      const em = orm.em.fork();
      const source = em.create(Source, { name: slug, slug, preset, secrets: [], ...rest });
      source.secrets = [{ sealed: seal(keyring, secret, sealedAt.sourceSecrets(source)), createdAt: new Date().toISOString(), expiresAt: null }];
      if (basicAuthPassword !== undefined) source.basicAuthPasswordSealed = seal(keyring, basicAuthPassword, sealedAt.sourcePassword(source));
      await em.persist(source).flush();
      return source;
    },
    async relay({ url, ...rest }) {
      const em = orm.em.fork();
      const signingSecret = generateSigningSecret();
      const relay = em.create(Relay, { name: url, url, signingSecretSealed: '', signingSecretHint: secretHint(signingSecret), ...rest });
      relay.signingSecretSealed = seal(keyring, signingSecret, sealedAt.relaySigningSecret(relay.id));
      await em.persist(relay).flush();
      return { relay, signingSecret };
    },
    async subscription({ relay, eventTypes = ['*'], sourceIds = null, forwardHeaders, filter = null }) {
      const em = orm.em.fork();
      const subscription = em.create(EventSubscription, {
        relay: em.getReference(Relay, relay.id),
        eventTypes,
        sourceIds,
        forwardHeaders: forwardHeaders ?? null,
        filter,
      });
      await em.persist(subscription).flush();
      return subscription;
    },
  };
}
