import { OptionalProps } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';

/** ADMIN: everything. READ: queries and subscriptions. PUBLISH: `publishEvent` only (graphql/publish-scope.ts). */
export const API_TOKEN_SCOPES = ['ADMIN', 'READ', 'PUBLISH'] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

/** A bearer token for the API, stored only as its SHA-256. */
@Entity({ tableName: 'api_token' })
export class ApiToken {
  [OptionalProps]?: 'id' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  scope!: ApiTokenScope;

  @Property({ type: 'text', unique: true })
  tokenHash!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date | null;

  /** Past this instant the token authenticates as unknown; null never expires. */
  @Property({ type: 'timestamptz', nullable: true })
  expiresAt?: Date | null;
}
