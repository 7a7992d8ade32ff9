import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import type { Keyring } from '../crypto/keyring.js';
import { channels } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';
import type { Logger } from '../log.js';
import type { IngestSource } from './presets/preset.js';
import { findIngestSource } from './source-lookup.js';

const TTL_MS = 1000;

/**
 * Sources by slug, opened (secrets unsealed) at most once a second rather than on every
 * request: the hot path then costs no query and no decryption. A change made through the API
 * is announced and dropped from every replica's cache at once, and the whole cache after a
 * reconnect of the LISTEN connection (announcements may have been missed); the short TTL
 * bounds anything else (a secret reaching its expiry).
 */
export class SourceCache {
  /** Bounded: slugs come from URLs (well-formed ones only, see route.ts), known or not. */
  private readonly entries = new LRUCache<string, { at: number; source: Promise<IngestSource | undefined> }>({ max: 10_000 });
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly keyring: Keyring,
    private readonly log?: Logger,
  ) {}

  listen(bus: NotifyBus): void {
    this.unsubscribe = bus.subscribe(channels.source, {
      receive: (slugs) => {
        for (const slug of slugs) this.entries.delete(slug);
      },
      resync: () => this.entries.clear(),
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.entries.clear();
  }

  find(slug: string, now: Date): Promise<IngestSource | undefined> {
    const hit = this.entries.get(slug);
    if (hit && now.getTime() - hit.at < TTL_MS) return hit.source;
    const source = findIngestSource(this.pool, this.keyring, slug, now);
    this.entries.set(slug, { at: now.getTime(), source });
    // A failed look-up (database down) is not remembered.
    source.then(
      (found) => {
        // Said here, at most once per load, not per request: the caller only learns that the
        // secret is unavailable; the key id it is sealed under is for the operator.
        if (found?.secretError) this.log?.warn({ slug, sourceId: found.id, reason: found.secretError }, 'a source secret cannot be unsealed by this process');
      },
      () => this.entries.delete(slug),
    );
    return source;
  }
}
