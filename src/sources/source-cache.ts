import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import type { Keyring } from '../crypto/keyring.js';
import { channels } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';
import type { Logger } from '../log.js';
import type { IngestSource } from './presets/preset.js';
import { findIngestSource } from './source-lookup.js';

const TTL_MS = 1000;
const MAX_SOURCES = 10_000;

export interface SourceCacheOptions {
  /** Sources kept at most (default 10 000); the least recently used goes first. */
  maxSources?: number;
}

/**
 * Sources by slug, opened (secrets unsealed) at most once a second rather than on every
 * request: the hot path then costs no query and no decryption. A change made through the API
 * is announced and dropped from every replica's cache at once, and the whole cache after a
 * reconnect of the LISTEN connection (announcements may have been missed); the short TTL
 * bounds anything else (a secret reaching its expiry).
 *
 * Only sources that exist are kept. Slugs come from URLs: a flood of made-up ones must never
 * fill the cache or push real sources out of it, and a slug created just after a miss is found
 * at once. Look-ups in flight are shared per slug, outside the cache, so they take no place in
 * it either (they are as many as the requests waiting, which the HTTP server bounds).
 */
export class SourceCache {
  private readonly sources: LRUCache<string, { at: number; value: IngestSource }>;
  private readonly loading = new Map<string, Promise<IngestSource | undefined>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly keyring: Keyring,
    private readonly log?: Logger,
    options: SourceCacheOptions = {},
  ) {
    this.sources = new LRUCache({ max: options.maxSources ?? MAX_SOURCES });
  }

  listen(bus: NotifyBus): void {
    this.unsubscribe = bus.subscribe(channels.source, {
      receive: (slugs) => {
        for (const slug of slugs) this.forget(slug);
      },
      resync: () => {
        this.sources.clear();
        this.loading.clear();
      },
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.sources.clear();
    this.loading.clear();
  }

  /**
   * The source when the cache holds it fresh, without a promise or a deadline (the hot path's
   * common case); undefined means "ask `find`", not "no such source".
   */
  cached(slug: string, now: Date): IngestSource | undefined {
    const hit = this.sources.get(slug);
    return hit && now.getTime() - hit.at < TTL_MS ? hit.value : undefined;
  }

  find(slug: string, now: Date): Promise<IngestSource | undefined> {
    const fresh = this.cached(slug, now);
    if (fresh) return Promise.resolve(fresh);
    return this.loading.get(slug) ?? this.load(slug, now);
  }

  /** A look-up that started before a change may read the old row: its answer is not kept. */
  private forget(slug: string): void {
    this.sources.delete(slug);
    this.loading.delete(slug);
  }

  private load(slug: string, now: Date): Promise<IngestSource | undefined> {
    const loaded = findIngestSource(this.pool, this.keyring, slug, now);
    this.loading.set(slug, loaded);
    loaded.then(
      (found) => {
        if (this.loading.get(slug) !== loaded) return;
        this.loading.delete(slug);
        if (!found) {
          this.sources.delete(slug);
          return;
        }
        this.sources.set(slug, { at: now.getTime(), value: found });
        // Said here, at most once per load, not per request: the caller only learns that the
        // secret is unavailable; the key id it is sealed under is for the operator.
        if (found.secretError) this.log?.warn({ slug, sourceId: found.id, reason: found.secretError }, 'a source secret cannot be unsealed by this process');
      },
      // A failed look-up (database down) is not remembered.
      () => {
        if (this.loading.get(slug) === loaded) this.loading.delete(slug);
      },
    );
    return loaded;
  }
}
