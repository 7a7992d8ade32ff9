import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';

/** Why an ingest request was refused; never its body, signatures or secrets. */
@Entity({ tableName: 'rejected_request' })
@Index({ name: 'rejected_request_received_at_id_index', properties: ['receivedAt', 'id'] })
@Index({ name: 'rejected_request_source_received_at_id_index', properties: ['sourceId', 'receivedAt', 'id'] })
export class RejectedRequest {
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid', nullable: true })
  sourceId?: string | null;

  @Property({ type: 'text' })
  slug!: string;

  /** An ErrorCode, e.g. INVALID_SIGNATURE. */
  @Property({ type: 'text' })
  reason!: string;

  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'integer' })
  status!: number;

  @Property({ type: 'bigint', nullable: true })
  bodyBytes?: number | null;

  @Property({ type: 'text', nullable: true })
  remoteAddress?: string | null;

  /** Refusals aggregated into this row: same source or slug, reason, address prefix and minute. */
  @Property({ type: 'integer', default: 1 })
  count: number = 1;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  receivedAt: Date = new Date();
}
