import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { checkTimestamp, DEFAULT_TOLERANCE_SECONDS } from '../../src/sources/verify.js';

const NOW = 1_800_000_000;

function outcome(timestamp: string, tolerance: number | null, window: 'past' | 'both'): string {
  try {
    checkTimestamp('T', timestamp, NOW, tolerance, window);
    return 'ok';
  } catch (error) {
    return (error as AppError).code;
  }
}

describe('checkTimestamp', () => {
  it.each<[string, string, number | null, 'past' | 'both', string]>([
    ['now', String(NOW), 60, 'both', 'ok'],
    ['exactly the tolerance old', String(NOW - 60), 60, 'past', 'ok'],
    ['one second too old', String(NOW - 61), 60, 'past', 'INVALID_SIGNATURE'],
    ['far future passes a past-only window', String(NOW + 86_400), 60, 'past', 'ok'],
    ['future within the tolerance, both ways', String(NOW + 60), 60, 'both', 'ok'],
    ['future beyond the tolerance, both ways', String(NOW + 61), 60, 'both', 'INVALID_SIGNATURE'],
    ['unset tolerance: the default', String(NOW - DEFAULT_TOLERANCE_SECONDS), null, 'both', 'ok'],
    ['unset tolerance: one past the default', String(NOW - DEFAULT_TOLERANCE_SECONDS - 1), null, 'both', 'INVALID_SIGNATURE'],
    ['not integer seconds', '1.5', 60, 'past', 'MALFORMED_SIGNATURE'],
    ['negative', '-5', 60, 'past', 'MALFORMED_SIGNATURE'],
    ['milliseconds (13 digits)', String(NOW * 1000), 60, 'past', 'MALFORMED_SIGNATURE'],
  ])('%s', (_, timestamp, tolerance, window, expected) => {
    expect(outcome(timestamp, tolerance, window)).toBe(expected);
  });

  it('names the header and the tolerance it applied', () => {
    expect(() => checkTimestamp('X-Timestamp', String(NOW - 301), NOW, null, 'past')).toThrow('X-Timestamp is outside the 300 s tolerance');
  });
});
