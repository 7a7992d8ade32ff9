import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApiTokenScope } from '../db/entities/api-token.js';

export interface Principal {
  tokenId: string | null;
  scope: ApiTokenScope;
}

/** Per request: a forked EntityManager (no identity map shared across requests) and who is asking. */
export interface GraphQLContext {
  em: EntityManager;
  principal: Principal;
  publicUrl: string;
}
