import { describe, expect, it } from 'vitest';
import { CandidateCache } from '../../src/events/candidate-cache.js';
import type { CandidateRow } from '../../src/events/fan-out.js';

const row = (id: string): CandidateRow => ({ id, relay_id: 'r', event_types: ['*'], source_ids: null, filter: null, relay_enabled: true, max_concurrency: 10, ordering_key_from: null });

describe('CandidateCache', () => {
  it('answers only when every source of a batch was read at one routing version', () => {
    const cache = new CandidateCache();
    cache.remember('a', '7', [row('s1')]);
    cache.remember(null, '7', []);
    expect(cache.allAt(['a', null, 'a'])).toEqual({ version: '7', bySource: new Map([['a', [row('s1')]], [null, []]]) });
    expect(cache.allAt(['a', 'b'])).toBeUndefined();
    cache.remember('b', '8', []);
    expect(cache.allAt(['a', 'b'])).toBeUndefined();
    expect(cache.allAt(['b'])).toEqual({ version: '8', bySource: new Map([['b', []]]) });
    expect(cache.allAt([])).toBeUndefined();
  });

  it('keeps at most 100,000 candidate rows, pushing out the least recently used source', () => {
    const cache = new CandidateCache();
    const many = Array.from({ length: 60_000 }, (_, i) => row(`s${i}`));
    cache.remember('first', '1', many);
    cache.remember('second', '1', many);
    expect(cache.allAt(['first'])).toBeUndefined();
    expect(cache.allAt(['second'])?.bySource.get('second')).toHaveLength(60_000);
    cache.remember('huge', '1', Array.from({ length: 100_000 }, (_, i) => row(`h${i}`)));
    expect(cache.allAt(['huge'])).toBeUndefined();
  });
});
