import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';

describe('newId', () => {
  it('gives valid UUIDv7s, each greater than the one before, across many blocks of random bytes', () => {
    let previous = '';
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const id = newId();
      expect(validate(id) && version(id)).toBe(7);
      expect(id > previous, `${id} after ${previous}`).toBe(true);
      seen.add(id.slice(26));
      previous = id;
    }
    // The last 40 bits are random, drawn afresh for each id (the counter only reaches bits before them).
    expect(seen.size).toBe(5_000);
  });
});
