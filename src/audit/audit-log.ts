import type { Pool } from 'pg';
import { newId } from '../ids.js';

/** One mutation as the audit log keeps it: who, what, on what, how it ended; never a value. */
export interface AuditRecord {
  /** Null for the HOOKYARD_ADMIN_TOKEN environment token. */
  tokenId: string | null;
  /** The token's name when it acted (a later rename or revocation does not rewrite history). */
  tokenName: string;
  operation: string;
  targetId: string | null;
  /** `OK`, or the error's `extensions.code`. */
  outcome: string;
  argumentNames: string[];
}

/**
 * Appends one row. A single autocommit insert after the mutation finished: mutations run
 * their own transactions, so the row cannot share them; a process killed between the
 * mutation's commit and this insert loses the row (the log line of the request remains).
 */
export async function recordAudit(pool: Pool, record: AuditRecord): Promise<void> {
  await pool.query(
    `insert into audit_log (id, occurred_at, token_id, token_name, operation, target_id, outcome, argument_names)
     values ($1, now(), $2, $3, $4, $5, $6, $7)`,
    [newId(), record.tokenId, record.tokenName, record.operation, record.targetId, record.outcome, record.argumentNames],
  );
}
