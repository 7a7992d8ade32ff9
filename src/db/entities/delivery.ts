import { OptionalProps } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';
import { Event } from './event.js';
import { Relay } from './relay.js';

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERING', 'SUCCEEDED', 'RETRYING', 'DEAD', 'CANCELLED', 'HELD'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one relay. Every claim and outcome rewrites status and updated_at, so each index
 * here takes an entry per write: only the ones a read needs (Migration20261203050000, which
 * also adds the partial (status, created_at, id) index for lists filtered by status alone).
 */
@Entity({ tableName: 'delivery' })
@Index({ name: 'delivery_created_at_id_index', properties: ['createdAt', 'id'] })
@Index({ name: 'delivery_relay_status_created_at_id_index', properties: ['relay', 'status', 'createdAt', 'id'] })
export class Delivery {
  [OptionalProps]?: 'id' | 'status' | 'attemptCount' | 'alone' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @ManyToOne(() => Event, { deleteRule: 'cascade' })
  event!: Event;

  @ManyToOne(() => Relay, { deleteRule: 'cascade' })
  relay!: Relay;

  @Property({ type: 'uuid', nullable: true })
  subscriptionId?: string | null;

  @Property({ type: 'text', default: 'PENDING' })
  status: DeliveryStatus = 'PENDING';

  @Property({ type: 'integer', default: 0 })
  attemptCount: number = 0;

  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  lastAttemptAt?: Date | null;

  /**
   * The latest claim: when it happened and the pg-boss job that made it. While DELIVERING, they
   * say which job holds the attempt in flight and since when; its job coming back after a crash
   * records that attempt as INTERRUPTED (delivery/claim.ts).
   */
  @Property({ type: 'timestamptz', nullable: true })
  claimedAt?: Date | null;

  @Property({ type: 'uuid', nullable: true })
  claimedBy?: string | null;

  /** Its relay's ordering key for its event (delivery/ordering/); null: unordered. */
  @Property({ type: 'text', nullable: true })
  orderingKey?: string | null;

  /** Its place in its key's line: acceptance order, or the back of the line after a retry of a skipped DEAD delivery. */
  @Property({ type: 'bigint', nullable: true })
  orderingPosition?: string | null;

  /** Why a delivery of an ordered relay went unordered (its event had no value at the key's path). */
  @Property({ type: 'text', nullable: true })
  unorderedReason?: string | null;

  /** The batch it was last sent in: its `webhook-id`, kept across that batch's retries. */
  @Property({ type: 'uuid', nullable: true })
  batchId?: string | null;

  /** Sent by itself even to a batching relay: an operator sent it again (retryDelivery, replayEvent). */
  @Property({ type: 'boolean', default: false })
  alone: boolean = false;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
