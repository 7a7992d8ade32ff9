import { OptionalProps } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';

/** One live secret of a source; several at once during a rotation. */
export interface SourceSecret {
  /** AES-256-GCM sealed, see crypto/seal.ts. */
  sealed: string;
  createdAt: string;
  /** ISO time after which this secret no longer verifies; null = no expiry. */
  expiresAt: string | null;
}

export const SOURCE_PRESETS = ['HMAC', 'GITHUB', 'STRIPE', 'STANDARD_WEBHOOKS', 'SHOPIFY', 'ADYEN', 'SLACK', 'TWILIO'] as const;
export type SourcePreset = (typeof SOURCE_PRESETS)[number];

/** An inbound endpoint, `POST /ingest/:slug`. */
@Entity({ tableName: 'source' })
export class Source {
  [OptionalProps]?: 'id' | 'enabled' | 'secrets' | 'requireIdempotencyKey' | 'builtin' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', unique: true })
  slug!: string;

  @Property({ type: 'text' })
  preset!: SourcePreset;

  @Property({ type: 'boolean', default: true })
  enabled: boolean = true;

  @Property({ type: 'json', default: '[]' })
  secrets: SourceSecret[] = [];

  @Property({ type: 'text', nullable: true })
  basicAuthUsername?: string | null;

  @Property({ type: 'text', nullable: true })
  basicAuthPasswordSealed?: string | null;

  @Property({ type: 'integer', nullable: true })
  toleranceSeconds?: number | null;

  @Property({ type: 'integer', nullable: true })
  maxBodyBytes?: number | null;

  @Property({ type: 'text', nullable: true })
  publicUrl?: string | null;

  @Property({ type: 'boolean', default: false })
  requireIdempotencyKey: boolean = false;

  @Property({ type: 'integer', nullable: true })
  rateLimitPerSecond?: number | null;

  /** Addresses or CIDRs allowed to post to this source; null = anyone. */
  @Property({ type: 'json', nullable: true })
  allowedCidrs?: string[] | null;

  /** A body whose hash was accepted within this many seconds is a duplicate; null = off. */
  @Property({ type: 'integer', nullable: true })
  dedupeWindowSeconds?: number | null;

  @Property({ type: 'text', nullable: true })
  signatureHeader?: string | null;

  @Property({ type: 'text', nullable: true })
  signatureAlgorithm?: string | null;

  @Property({ type: 'text', nullable: true })
  signatureEncoding?: string | null;

  @Property({ type: 'text', nullable: true })
  signaturePrefix?: string | null;

  @Property({ type: 'text', nullable: true })
  timestampHeader?: string | null;

  @Property({ type: 'text', nullable: true })
  eventTypeFrom?: string | null;

  @Property({ type: 'text', nullable: true })
  idempotencyKeyFrom?: string | null;

  /** Lower-case names of further headers to store on events, besides the preset's allow-list. */
  @Property({ type: 'json', nullable: true })
  keepHeaders?: string[] | null;

  /** The source of Hookyard's own operational events (routing/operations-source.ts): never edited, never posted to. */
  @Property({ type: 'boolean', default: false })
  builtin: boolean = false;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
