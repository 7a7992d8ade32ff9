import { OptionalProps } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';

/**
 * One mutation someone ran, refused ones included: who (token id and its name at that time),
 * which operation, on what, and how it ended. Never an argument value, only argument names,
 * so no secret can land here. No foreign keys: a row outlives the token and the target.
 */
@Entity({ tableName: 'audit_log' })
@Index({ name: 'audit_log_occurred_at_id_index', properties: ['occurredAt', 'id'] })
@Index({ name: 'audit_log_target_occurred_at_id_index', properties: ['targetId', 'occurredAt', 'id'] })
@Index({ name: 'audit_log_token_occurred_at_id_index', properties: ['tokenId', 'occurredAt', 'id'] })
export class AuditEntry {
  [OptionalProps]?: 'id' | 'occurredAt' | 'argumentNames';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  occurredAt: Date = new Date();

  /** Null for the HOOKYARD_ADMIN_TOKEN environment token. */
  @Property({ type: 'uuid', nullable: true })
  tokenId?: string | null;

  @Property({ type: 'text' })
  tokenName!: string;

  /** The root mutation field, e.g. `updateRelay`. */
  @Property({ type: 'text' })
  operation!: string;

  @Property({ type: 'uuid', nullable: true })
  targetId?: string | null;

  /** `OK`, or the `extensions.code` the client got (`FORBIDDEN`, `NOT_FOUND`, …). */
  @Property({ type: 'text' })
  outcome!: string;

  /** Names of the arguments given, one level into input objects (`input.url`); never values. */
  @Property({ type: 'text[]', defaultRaw: "'{}'" })
  argumentNames: string[] = [];
}
