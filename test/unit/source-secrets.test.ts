import { describe, expect, it } from 'vitest';
import type { SourceSecret } from '../../src/db/entities/source.js';
import { isLive, liveSecrets, MAX_LIVE_SECRETS, newSecret, rotateSecrets } from '../../src/sources/secrets.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const at = (seconds: number): string => new Date(NOW.getTime() + seconds * 1000).toISOString();
const secret = (sealed: string, expiresAt: string | null): SourceSecret => ({ sealed, createdAt: at(-86_400), expiresAt });

describe('isLive', () => {
  it.each<[string, string | null, boolean]>([
    ['no expiry', null, true],
    ['expires later', at(1), true],
    ['expires right now (exclusive)', at(0), false],
    ['expired', at(-1), false],
  ])('%s', (_, expiresAt, live) => {
    expect(isLive({ expiresAt }, NOW)).toBe(live);
  });

  it('liveSecrets keeps the live ones in order', () => {
    const all = [secret('a', null), secret('b', at(-5)), secret('c', at(5))];
    expect(liveSecrets(all, NOW).map((s) => s.sealed)).toEqual(['a', 'c']);
  });
});

describe('rotateSecrets', () => {
  const added = newSecret('new', NOW);

  it('gives the live secrets the grace period, keeps an earlier expiry and drops expired ones', () => {
    const rotated = rotateSecrets([secret('forever', null), secret('soon', at(10)), secret('later', at(7200)), secret('gone', at(-1))], added, NOW, 3600);
    expect(rotated).toEqual([
      { ...secret('forever', null), expiresAt: at(3600) },
      secret('soon', at(10)),
      { ...secret('later', null), expiresAt: at(3600) },
      { sealed: 'new', createdAt: NOW.toISOString(), expiresAt: null },
    ]);
  });

  it('with no grace period the old secrets stop now', () => {
    const rotated = rotateSecrets([secret('old', null)], added, NOW, 0) as SourceSecret[];
    expect(liveSecrets(rotated, NOW).map((s) => s.sealed)).toEqual(['new']);
  });

  it(`refuses beyond ${MAX_LIVE_SECRETS} live secrets; expired ones do not count`, () => {
    const full = Array.from({ length: MAX_LIVE_SECRETS }, (_, i) => secret(`s${i}`, null));
    expect(rotateSecrets(full, added, NOW, 60)).toBe('too-many');
    expect(rotateSecrets([...full.slice(1), secret('expired', at(-1))], added, NOW, 60)).toHaveLength(MAX_LIVE_SECRETS);
  });
});
