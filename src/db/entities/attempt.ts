import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';
import { Delivery } from './delivery.js';

export const ATTEMPT_ERROR_CLASSES = [
  'HTTP_STATUS', 'TIMEOUT', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'DNS', 'TLS',
  'REDIRECT', 'RESPONSE_TOO_LARGE', 'SSRF_BLOCKED', 'PROXY', 'LOCAL',
  // The worker stopped (crash, kill, shutdown) while the request was in flight: the receiver may have it.
  'INTERRUPTED',
  // An email relay's SMTP server answered with an error reply (4xx: retried; 5xx: DEAD at once).
  'SMTP',
] as const;
export type AttemptErrorClass = (typeof ATTEMPT_ERROR_CLASSES)[number];

/** One HTTP try of a delivery. */
@Entity({ tableName: 'attempt' })
@Index({ name: 'attempt_delivery_id_index', properties: ['delivery'] })
export class Attempt {
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne(() => Delivery, { deleteRule: 'cascade' })
  delivery!: Delivery;

  @Property({ type: 'integer' })
  number!: number;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'integer' })
  durationMs!: number;

  /** Headers as sent, extra-header values redacted. */
  @Property({ type: 'json' })
  requestHeaders!: Record<string, string>;

  @Property({ type: 'integer', nullable: true })
  responseStatus?: number | null;

  /** The first 4 KiB of the response body. */
  @Property({ type: 'text', nullable: true })
  responseBodyExcerpt?: string | null;

  @Property({ type: 'text', nullable: true })
  errorClass?: AttemptErrorClass | null;

  @Property({ type: 'text', nullable: true })
  errorMessage?: string | null;
}
