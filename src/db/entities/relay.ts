import { OptionalProps } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';

/** A destination that subscribed events are delivered to. */
export const ORDERING_ON_DEAD = ['CONTINUE', 'HOLD'] as const;
export type OrderingOnDead = (typeof ORDERING_ON_DEAD)[number];
/** Where a relay's deliveries go: an HTTP request, or an email (delivery/destinations/). */
export const RELAY_KINDS = ['HTTP', 'EMAIL'] as const;
export type RelayKind = (typeof RELAY_KINDS)[number];
/** How an email relay's SMTP connection is secured: STARTTLS required, TLS from the first byte (port 465), or none (a local relay, no credentials). */
export const SMTP_TLS_MODES = ['STARTTLS', 'TLS', 'NONE'] as const;
export type SmtpTls = (typeof SMTP_TLS_MODES)[number];

@Entity({ tableName: 'relay' })
export class Relay {
  [OptionalProps]?: 'id' | 'kind' | 'method' | 'enabled' | 'timeoutMs' | 'maxConcurrency' | 'consecutiveDead' | 'orderingOnDead' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', default: 'HTTP' })
  kind: RelayKind = 'HTTP';

  /** HTTP: the receiver's URL. EMAIL: `smtp://host:port` (`smtps://` with implicit TLS), derived from the SMTP settings. */
  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'text', default: 'POST' })
  method: string = 'POST';

  /** Sealed JSON array of `{ name, value }`: extra headers often carry API keys. */
  @Property({ type: 'text', nullable: true })
  headersSealed?: string | null;

  @Property({ type: 'text' })
  signingSecretSealed!: string;

  @Property({ type: 'text' })
  signingSecretHint!: string;

  /** Whole seconds between tries after the first; null = the default schedule. */
  @Property({ type: 'json', nullable: true })
  retrySchedule?: number[] | null;

  @Property({ type: 'integer', default: 15000 })
  timeoutMs: number = 15000;

  @Property({ type: 'integer', nullable: true })
  maxAgeSeconds?: number | null;

  @Property({ type: 'integer', default: 10 })
  maxConcurrency: number = 10;

  @Property({ type: 'integer', nullable: true })
  rateLimitPerSecond?: number | null;

  /** The proxy URL as shown: its password masked. */
  @Property({ type: 'text', nullable: true })
  proxyUrl?: string | null;

  /** The whole proxy URL, sealed: it carries the proxy's password. */
  @Property({ type: 'text', nullable: true })
  proxyUrlSealed?: string | null;

  /** EMAIL relays: the SMTP server, how the connection is secured, and the credentials (the password sealed). */
  @Property({ type: 'text', nullable: true })
  smtpHost?: string | null;

  @Property({ type: 'integer', nullable: true })
  smtpPort?: number | null;

  @Property({ type: 'text', nullable: true })
  smtpTls?: SmtpTls | null;

  @Property({ type: 'text', nullable: true })
  smtpUser?: string | null;

  @Property({ type: 'text', nullable: true })
  smtpPasswordSealed?: string | null;

  /** EMAIL relays: the sender, the recipients (at most 20 addresses) and the subject template (`{{type}}`, `{{data.a.b}}`). */
  @Property({ type: 'text', nullable: true })
  emailFrom?: string | null;

  @Property({ type: 'json', nullable: true })
  emailTo?: string[] | null;

  @Property({ type: 'text', nullable: true })
  emailSubject?: string | null;

  /** Where a delivery's ordering key comes from: `json:$.a.b`, `header:Name` or `idempotencyKey`; null: unordered. */
  @Property({ type: 'text', nullable: true })
  orderingKeyFrom?: string | null;

  /** What a DEAD head does to its key: CONTINUE with the next delivery, or HOLD the key until an operator acts. */
  @Property({ type: 'text', default: 'CONTINUE' })
  orderingOnDead: OrderingOnDead = 'CONTINUE';

  /** Batched delivery: events per request at most (null: one request per delivery), body bytes at most, and how long a batch waits for more. */
  @Property({ type: 'integer', nullable: true })
  batchMaxEvents?: number | null;

  @Property({ type: 'integer', nullable: true })
  batchMaxBytes?: number | null;

  @Property({ type: 'integer', nullable: true })
  batchMaxWaitMs?: number | null;

  @Property({ type: 'boolean', default: true })
  enabled: boolean = true;

  @Property({ type: 'text', nullable: true })
  disabledReason?: string | null;

  /** The signing secret before the last rotation, still signing until its expiry. */
  @Property({ type: 'text', nullable: true })
  previousSigningSecretSealed?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  previousSigningSecretExpiresAt?: Date | null;

  /** Deliveries that ended DEAD in a row; a success resets it (auto-disable). */
  @Property({ type: 'integer', default: 0 })
  consecutiveDead: number = 0;

  /** Since when attempts have failed without a success in between (auto-disable). */
  @Property({ type: 'timestamptz', nullable: true })
  failingSince?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  lastSuccessAt?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
