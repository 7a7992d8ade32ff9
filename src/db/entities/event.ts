import { OptionalProps } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';
import { Source } from './source.js';

/** One accepted inbound webhook or published event, stored once. */
@Entity({ tableName: 'event' })
@Index({ name: 'event_received_at_id_index', properties: ['receivedAt', 'id'] })
@Index({ name: 'event_source_received_at_id_index', properties: ['source', 'receivedAt', 'id'] })
export class Event {
  [OptionalProps]?: 'id' | 'receivedAt' | 'headers';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @ManyToOne(() => Source, { nullable: true, deleteRule: 'set null' })
  source?: Source | null;

  @Property({ type: 'text' })
  type!: string;

  /** Unique per source (see the migration's expression index). */
  @Property({ type: 'text', nullable: true })
  idempotencyKey?: string | null;

  /** The provider headers kept for forwarding and filters (never signatures). */
  @Property({ type: 'json', default: '{}' })
  headers: Record<string, string> = {};

  @Property({ type: 'text', nullable: true })
  contentType?: string | null;

  @Property({ type: 'blob' })
  body!: Buffer;

  /** SHA-256 of the body, kept only for sources with content dedupe (`dedupeWindowSeconds`). */
  @Property({ type: 'blob', nullable: true })
  bodySha256?: Buffer | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  receivedAt: Date = new Date();

  /** The ingest request's correlation id (its `X-Request-Id` answer), on every log line of its attempts. */
  @Property({ type: 'text', nullable: true })
  correlationId?: string | null;

  /** The ingest span's W3C `traceparent`, parent of every attempt's span; null when tracing was off. */
  @Property({ type: 'text', nullable: true })
  traceparent?: string | null;
}
