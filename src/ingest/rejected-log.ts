import type { Pool } from 'pg';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';

export interface Rejection {
  sourceId: string | null;
  slug: string;
  reason: string;
  message: string;
  status: number;
  bodyBytes: number | null;
  remoteAddress: string | null;
  /** Floods of this kind (unknown slugs, rate limits) keep at most one row per second per address. */
  sampled: boolean;
}

/**
 * Records why requests were refused, so a user can see why a provider's webhooks fail.
 * Never the body, signatures or secrets. A failure to write the row never fails the answer.
 */
export class RejectedLog {
  private readonly lastSampled = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
  ) {}

  /** Resolves once the row is written (or skipped); never rejects. */
  async record(rejection: Rejection): Promise<void> {
    if (rejection.sampled && !this.takeSample(`${rejection.reason}|${rejection.remoteAddress ?? ''}`)) return;
    await this.pool
      .query(
        `insert into rejected_request (id, source_id, slug, reason, message, status, body_bytes, remote_address, received_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
        [newId(), rejection.sourceId, rejection.slug.slice(0, 200), rejection.reason, rejection.message, rejection.status, rejection.bodyBytes, rejection.remoteAddress],
      )
      .catch((error: Error) => this.log.warn({ err: error.message }, 'could not record a rejected request'));
  }

  private takeSample(key: string): boolean {
    const now = Date.now();
    const last = this.lastSampled.get(key);
    if (last !== undefined && now - last < 1000) return false;
    if (this.lastSampled.size > 10_000) this.lastSampled.clear();
    this.lastSampled.set(key, now);
    return true;
  }
}
