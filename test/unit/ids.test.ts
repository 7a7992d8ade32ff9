import { describe, expect, it } from 'vitest';
import { newId, UUID_PATTERN } from '../../src/ids.js';

describe('newId', () => {
  it('is a version 7 UUID of RFC 9562 variant, with the current time in its first 48 bits', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    const msecs = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(after + 1);
  });

  it('never goes back and never repeats across refills of its random pool, within a millisecond or not', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids.map((id) => id.slice(24))).size).toBeGreaterThan(4990);
  });
});
