import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import type { Logger } from '../log.js';

/** A write per token and minute is plenty for "when was this token last used". */
const INTERVAL_MS = 60_000;
/** Tokens remembered at once; one forgotten early is only written again. */
const MAX_TOKENS = 10_000;

/**
 * Writes `api_token.last_used_at` when a token is used, at most once a minute per token, in
 * the background: the request never waits for it and a failed write is only logged.
 */
export class LastUsedWriter {
  private readonly recent = new LRUCache<string, true>({ max: MAX_TOKENS, ttl: INTERVAL_MS });

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  touch(tokenId: string): void {
    if (this.recent.has(tokenId)) return;
    this.recent.set(tokenId, true);
    this.pool.query('update api_token set last_used_at = now() where id = $1', [tokenId]).catch((error: unknown) => {
      this.log.warn({ err: error, tokenId }, 'could not record a token\'s last use');
    });
  }
}
