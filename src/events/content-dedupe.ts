import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';

/** What an event of a source with content dedupe carries: its body's hash and the window. */
export interface ContentDedupe {
  sha256: Buffer;
  windowSeconds: number;
}

/** What the check reads of an event to be accepted. */
export interface DedupeCandidate {
  sourceId: string | null;
  dedupe?: ContentDedupe;
}

/** An earlier event's id (stored), or the index of an earlier event in the same batch. */
export type ContentDuplicate = { id: string } | { index: number };

const FIND = `
  select distinct on (k.n) k.n, e.id
  from unnest($1::uuid[], $2::bytea[], $3::int[]) with ordinality as k(source_id, sha256, window_seconds, n)
  join event e on e.source_id = k.source_id and e.body_sha256 = k.sha256
    and e.received_at > now() - make_interval(secs => k.window_seconds)
  order by k.n, e.received_at, e.id`;

/** A 64-bit advisory lock key per (source, body hash): two transactions with one body take turns. */
function lockKey(sourceId: string, sha256: Buffer): string {
  return createHash('sha256').update(sourceId).update(sha256).digest().readBigInt64BE(0).toString();
}

/**
 * Which events of a batch repeat a body accepted within their source's window (DESIGN.md:
 * opt-in per source, off by default because two genuine events may share a body). The locks,
 * held to the commit, make concurrent copies of one body wait for each other, so exactly one
 * is stored; two statements however large the batch.
 */
export async function findContentDuplicates(client: PoolClient, events: readonly DedupeCandidate[]): Promise<Map<number, ContentDuplicate>> {
  const found = new Map<number, ContentDuplicate>();
  const checked = events.flatMap((e, i) => (e.dedupe && e.sourceId ? [i] : []));
  if (checked.length === 0) return found;
  const keys = [...new Set(checked.map((i) => lockKey(events[i]!.sourceId!, events[i]!.dedupe!.sha256)))].sort();
  await client.query('select pg_advisory_xact_lock(k) from unnest($1::bigint[]) as k', [keys]);
  const { rows } = await client.query<{ n: string; id: string }>(FIND, [
    checked.map((i) => events[i]!.sourceId), checked.map((i) => events[i]!.dedupe!.sha256), checked.map((i) => events[i]!.dedupe!.windowSeconds),
  ]);
  for (const row of rows) found.set(checked[Number(row.n) - 1]!, { id: row.id });
  // Within the batch: the first copy of a body is stored (or found above), later ones repeat it.
  const first = new Map<string, number>();
  for (const i of checked) {
    const key = `${events[i]!.sourceId}:${events[i]!.dedupe!.sha256.toString('hex')}`;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else if (!found.has(i)) found.set(i, found.get(earlier) ?? { index: earlier });
  }
  return found;
}
