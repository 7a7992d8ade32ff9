import type { Pool } from 'pg';
import { hashToken } from '../crypto/tokens.js';
import { safeEqual } from '../crypto/safe-equal.js';
import { ENV_ADMIN_TOKEN_NAME, type Principal } from './principal.js';
import type { ApiTokenScope } from '../db/entities/api-token.js';

/** The token of an `Authorization: Bearer <token>` value (or a bare websocket param). */
export function bearerToken(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match ? match[1] : undefined;
}

/** A token that is neither revoked nor past its expiry. */
const USABLE = 'revoked_at is null and (expires_at is null or expires_at > now())';

/**
 * Resolves a token to a principal: the configured admin token, or a usable API token looked up
 * by its SHA-256. `undefined` means unauthenticated (an expired token is as good as unknown).
 */
export async function authenticate(pool: Pool, adminToken: string | undefined, token: string | undefined): Promise<Principal | undefined> {
  if (!token) return undefined;
  const hash = hashToken(token);
  if (adminToken !== undefined && safeEqual(Buffer.from(hash, 'hex'), Buffer.from(hashToken(adminToken), 'hex'))) {
    return { tokenId: null, tokenName: ENV_ADMIN_TOKEN_NAME, scope: 'ADMIN' };
  }
  const { rows } = await pool.query<{ id: string; name: string; scope: ApiTokenScope }>(`select id, name, scope from api_token where token_hash = $1 and ${USABLE}`, [hash]);
  const row = rows[0];
  return row ? { tokenId: row.id, tokenName: row.name, scope: row.scope } : undefined;
}

/** Which of these token ids are still usable: the re-check of open websockets. */
export async function usableTokenIds(pool: Pool, tokenIds: readonly string[]): Promise<Set<string>> {
  if (tokenIds.length === 0) return new Set();
  const { rows } = await pool.query<{ id: string }>(`select id from api_token where id = any($1::uuid[]) and ${USABLE}`, [tokenIds]);
  return new Set(rows.map((row) => row.id));
}
