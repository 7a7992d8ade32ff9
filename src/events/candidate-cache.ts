import { LRUCache } from 'lru-cache';
import { NIL_UUID } from '../ids.js';
import type { CandidateRow } from './fan-out.js';

/**
 * Candidate rows kept at once, over all sources (a source counts one more): a subscription to
 * every source is a row in each source's entry, so the bound is on rows, not sources. One
 * pushed out is read again by its source's next batch.
 */
const MAX_ROWS = 100_000;

interface Entry {
  /** `routing_version` when the rows were read (bigint, as pg returns it). */
  version: string;
  rows: CandidateRow[];
}

/**
 * Each source's candidate subscriptions as ingest last read them, with the routing version
 * they were read at (migration Migration20261209000000_routing_version). Never trusted on its
 * own: the one-statement accept (accept-in-one-statement.ts) sends the version and the
 * database refuses the batch when it moved, so a stale entry costs one round trip, never a
 * misrouted event. Bounded by rows, so many sources with many subscriptions cannot grow it.
 */
export class CandidateCache {
  private readonly entries = new LRUCache<string, Entry>({ maxSize: MAX_ROWS, sizeCalculation: (entry) => entry.rows.length + 1 });

  remember(sourceId: string | null, version: string, rows: CandidateRow[]): void {
    this.entries.set(sourceId ?? NIL_UUID, { version, rows });
  }

  /** The candidates of every source in `sources`, when all were read at one version; else nothing. */
  allAt(sources: Iterable<string | null>): { version: string; bySource: Map<string | null, CandidateRow[]> } | undefined {
    let version: string | undefined;
    const bySource = new Map<string | null, CandidateRow[]>();
    for (const source of sources) {
      if (bySource.has(source)) continue;
      const entry = this.entries.get(source ?? NIL_UUID);
      if (!entry || (version !== undefined && entry.version !== version)) return undefined;
      version = entry.version;
      bySource.set(source, entry.rows);
    }
    return version === undefined ? undefined : { version, bySource };
  }
}
