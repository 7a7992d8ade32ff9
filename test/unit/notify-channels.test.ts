import { describe, expect, it } from 'vitest';
import { channels, ENTRY_SEPARATOR, type Channel } from '../../src/db/notify/channels.js';

const id = '0195f3a2-7c1e-7d2a-9b3c-4d5e6f708192';

/** Items of every channel, as producers send them. */
const samples: { [K in keyof typeof channels]: (typeof channels)[K] extends Channel<infer T> ? T[] : never } = {
  delivery: [
    { id, status: 'PENDING', attemptCount: 0 },
    { id, status: 'RETRYING', attemptCount: 3 },
    { id, status: 'DEAD', attemptCount: 12 },
  ],
  event: [{ id, sourceId: id }, { id, sourceId: null }],
  relay: [id],
  source: ['stripe-live', 'a'],
  tokenRevoked: [id],
};

describe('the NOTIFY channel table', () => {
  it.each(Object.keys(samples) as (keyof typeof channels)[])('%s: decode(encode(item)) is the item, and no entry holds the separator', (name) => {
    const channel = channels[name] as Channel<unknown>;
    for (const item of samples[name]) {
      const entry = channel.encode(item);
      expect(entry).not.toContain(ENTRY_SEPARATOR);
      expect(channel.decode(entry)).toEqual(item);
    }
  });

  it('has one name per channel', () => {
    const names = Object.values(channels).map((channel) => channel.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['delivery', ''],
    ['delivery', `${id}:PENDING`],
    ['delivery', `${id}:SENT:1`],
    ['delivery', `${id}:PENDING:-1`],
    ['delivery', `${id}:PENDING:1:extra`],
    ['delivery', `:PENDING:1`],
    ['event', id],
    ['event', `${id}:${id}:x`],
    ['relay', ''],
    ['source', ''],
    ['tokenRevoked', ''],
  ] as const)('%s refuses the entry %j', (name, entry) => {
    expect(() => channels[name].decode(entry)).toThrow(RangeError);
  });
});
