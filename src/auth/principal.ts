import type { ApiTokenScope } from '../db/entities/api-token.js';

/** How the audit log names the HOOKYARD_ADMIN_TOKEN token, which has no row of its own. */
export const ENV_ADMIN_TOKEN_NAME = 'environment admin token';

/** Who a request acts as: what authentication yields and every authorization check reads. */
export interface Principal {
  /** Null for the HOOKYARD_ADMIN_TOKEN environment token. */
  tokenId: string | null;
  /** The token's name as the audit log records it. */
  tokenName: string;
  scope: ApiTokenScope;
}
