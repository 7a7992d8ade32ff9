import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import { addressKey } from '../auth/remote-address.js';
import { inTransaction } from '../db/transaction.js';
import { newId } from '../ids.js';
import type { Logger } from '../log.js';
import { rejectedLogDropped } from '../metrics.js';
import { reportRejectingSources, type RejectingPolicy } from '../sources/rejecting-alert.js';

export interface Rejection {
  /** Null for an unknown or malformed slug: those share one bucket per reason, address and minute. */
  sourceId: string | null;
  slug: string;
  reason: string;
  message: string;
  status: number;
  bodyBytes: number | null;
  remoteAddress: string | null;
}

interface Bucket {
  id: string;
  rejection: Rejection;
  /** The address prefix the bucket is counted under (IPv4 /32, IPv6 /64). */
  address: string | null;
  minute: number;
  firstAt: Date;
  /** Refusals not yet written; `written` says whether the row exists already. */
  pending: number;
  bodyBytes: number | null;
}

export interface RejectedLogLimits {
  /** Rows written per second at most, inserts and count updates alike. */
  rowsPerSecond: number;
  /** Buckets held in memory; refusals past it are dropped from the log and counted. */
  maxBuckets: number;
  /** Pause between writes (default 1 s); each write takes its share of `rowsPerSecond`. */
  flushEveryMs?: number;
  /** `source.rejecting` when a source's refusals jump, checked by the write that counted them (sources/rejecting-alert.ts). */
  rejecting?: RejectingPolicy & { boss: PgBoss };
}

const FLUSH_EVERY_MS = 1000;

const UPSERT = `
  insert into rejected_request (id, source_id, slug, reason, message, status, body_bytes, remote_address, received_at, count)
  select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::text[], $9::timestamptz[], $10::int[])
  on conflict (id) do update set count = rejected_request.count + excluded.count,
    body_bytes = greatest(rejected_request.body_bytes, excluded.body_bytes)`;

/** A sample slug may be anything a client put in the URL: PostgreSQL text refuses NUL. */
function printable(text: string): string {
  return text.slice(0, 200).replace(/\0/g, '\uFFFD');
}

/**
 * Records why requests were refused, so a user can see why a provider's webhooks fail: never
 * the body, signatures or secrets. Refusals are counted in memory, one bucket per (source or
 * unknown slug, reason, address prefix, minute), and written in the background once a second,
 * at most `rowsPerSecond` rows at a time: the request path never waits for it and no flood can
 * fill the disk or take the connections accepted webhooks need.
 */
export class RejectedLog {
  // A Map, not lru-cache or rate-limiter-flexible: buckets are counts still to be written, so
  // none may be evicted (a new one past `maxBuckets` is dropped and counted instead), and the
  // row cap is a fixed share per timed flush, which needs no limiter.
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly limits: RejectedLogLimits,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.limits.flushEveryMs ?? FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending (within the row cap). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Counts one refusal; never waits and never throws. */
  record(rejection: Rejection, now = new Date()): void {
    const minute = Math.floor(now.getTime() / 60_000);
    const address = rejection.remoteAddress ? addressKey(rejection.remoteAddress) : null;
    const key = `${rejection.sourceId ?? '-'}|${rejection.reason}|${address ?? ''}|${minute}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.limits.maxBuckets) {
        rejectedLogDropped.inc();
        return;
      }
      bucket = { id: newId(), rejection, address, minute, firstAt: now, pending: 0, bodyBytes: null };
      this.buckets.set(key, bucket);
    }
    bucket.pending++;
    if (rejection.bodyBytes !== null && (bucket.bodyBytes === null || rejection.bodyBytes > bucket.bodyBytes)) bucket.bodyBytes = rejection.bodyBytes;
  }

  /** Writes this flush's share of `rowsPerSecond` pending buckets in one statement; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const currentMinute = Math.floor(Date.now() / 60_000);
    const share = Math.max(1, Math.floor((this.limits.rowsPerSecond * (this.limits.flushEveryMs ?? FLUSH_EVERY_MS)) / 1000));
    const batch: [Bucket, number][] = [];
    for (const [key, bucket] of this.buckets) {
      if (bucket.pending === 0) {
        // Written and over: its minute will not be counted into again.
        if (bucket.minute < currentMinute) this.buckets.delete(key);
        continue;
      }
      if (batch.length < share) batch.push([bucket, bucket.pending]);
    }
    if (batch.length === 0) return;
    const rows = batch.map(([b]) => b);
    try {
      const values = [
        rows.map((b) => b.id), rows.map((b) => b.rejection.sourceId), rows.map((b) => printable(b.rejection.slug)),
        rows.map((b) => b.rejection.reason), rows.map((b) => printable(b.rejection.message)), rows.map((b) => b.rejection.status),
        rows.map((b) => b.bodyBytes), rows.map((b) => b.address), rows.map((b) => b.firstAt), batch.map(([, n]) => n),
      ];
      const sourceIds = rows.flatMap((b) => (b.rejection.sourceId ? [b.rejection.sourceId] : []));
      const rejecting = this.limits.rejecting;
      // Once per write, not per refusal: the check and its event commit with the counts they saw.
      if (rejecting && rejecting.threshold > 0 && sourceIds.length > 0) {
        await inTransaction(this.pool, async (client) => {
          await client.query(UPSERT, values);
          await reportRejectingSources(client, rejecting.boss, sourceIds, rejecting);
        });
      } else await this.pool.query(UPSERT, values);
      for (const [bucket, n] of batch) bucket.pending -= n;
    } catch (error) {
      // Kept pending: the next flush tries again (the database may be down for a moment).
      this.log.warn({ err: (error as Error).message, rows: batch.length }, 'could not record rejected requests');
    }
  }
}
