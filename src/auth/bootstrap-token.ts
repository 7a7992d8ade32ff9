import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { generateApiToken, hashToken } from '../crypto/tokens.js';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';

/** Any fixed number distinct from the migration lock. */
const BOOTSTRAP_LOCK = 0x686b792d746f6b6en;

/**
 * First start without HOOKYARD_ADMIN_TOKEN and without any token in the database: create an
 * ADMIN token, write it to `<dataDir>/admin-token` (0600) and return it so the caller prints it
 * once. Serialised by an advisory lock so two processes starting together create one.
 */
export async function bootstrapAdminToken(pool: Pool, dataDir: string, adminToken: string | undefined): Promise<string | undefined> {
  if (adminToken !== undefined) return undefined;
  return inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK.toString()]);
    const existing = await client.query('select 1 from api_token limit 1');
    if (existing.rowCount !== 0) return undefined;
    const token = generateApiToken();
    await client.query(`insert into api_token (id, name, scope, token_hash, created_at) values ($1, 'bootstrap admin', 'ADMIN', $2, now())`, [newId(), hashToken(token)]);
    // Written before the commit: a token in the database is never one nobody was shown.
    await writeFile(path.join(dataDir, 'admin-token'), `${token}\n`, { mode: 0o600 });
    return token;
  });
}
