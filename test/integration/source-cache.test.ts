import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKeyring, parseKey } from '../../src/crypto/keyring.js';
import { SourceCache } from '../../src/sources/source-cache.js';
import { createTestDatabase } from '../helpers/database.js';

/**
 * The ingest path's source cache: slugs come from URLs, so a flood of made-up ones must cost
 * the real sources nothing, neither their place in the cache nor a stale "no such source".
 */
let pool: pg.Pool;
const keyring = createKeyring(parseKey(randomBytes(32).toString('base64')));

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 4 });
});

afterAll(async () => {
  await pool.end();
});

async function insertSource(slug: string): Promise<void> {
  await pool.query(`insert into source (id, name, slug, preset) values ($1, $2, $2, 'GITHUB')`, [randomUUID(), slug]);
}

async function disable(slug: string): Promise<void> {
  await pool.query('update source set enabled = false where slug = $1', [slug]);
}

describe('SourceCache', () => {
  it('keeps real sources cached through a flood of unknown slugs', async () => {
    await insertSource('real');
    const cache = new SourceCache(pool, keyring, undefined, { maxSources: 2 });
    const now = new Date();
    expect(await cache.find('real', now)).toMatchObject({ slug: 'real', enabled: true });

    for (let i = 0; i < 50; i++) expect(await cache.find(`unknown-${i}`, now)).toBeUndefined();

    // Changed behind the cache's back (no notification): still the cached copy, so it was never evicted.
    await disable('real');
    expect(await cache.find('real', now)).toMatchObject({ slug: 'real', enabled: true });
    // The TTL still bounds it.
    expect(await cache.find('real', new Date(now.getTime() + 1000))).toMatchObject({ slug: 'real', enabled: false });
  });

  it('never caches an unknown slug: a source created after a miss is found at once', async () => {
    const cache = new SourceCache(pool, keyring);
    const now = new Date();
    expect(await cache.find('later', now)).toBeUndefined();
    await insertSource('later');
    expect(await cache.find('later', now)).toMatchObject({ slug: 'later' });
  });

  it('shares one look-up between concurrent requests for a slug, known or not', async () => {
    await insertSource('shared');
    const cache = new SourceCache(pool, keyring);
    const query = vi.spyOn(pool, 'query');
    try {
      const now = new Date();
      const found = await Promise.all(Array.from({ length: 5 }, () => cache.find('shared', now)));
      expect(found.every((source) => source?.slug === 'shared')).toBe(true);
      const missing = await Promise.all(Array.from({ length: 5 }, () => cache.find('nobody', now)));
      expect(missing).toEqual([undefined, undefined, undefined, undefined, undefined]);
      expect(query).toHaveBeenCalledTimes(2);
    } finally {
      query.mockRestore();
    }
  });
});
