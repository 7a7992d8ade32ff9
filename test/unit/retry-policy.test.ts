import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE_SECONDS, nextAttempt, parseRetryAfter, RETRY_AFTER_CAP_MS, type RetryInput } from '../../src/delivery/retry-policy.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const base: RetryInput = { attempt: 1, schedule: [10, 20], retryAfterMs: null, createdAtMs: NOW, maxAgeSeconds: null, nowMs: NOW, random: 0.5 };

describe('nextAttempt', () => {
  it.each<[string, Partial<RetryInput>, ReturnType<typeof nextAttempt>]>([
    ['first step, no jitter at random=0.5', {}, { retry: true, delayMs: 10_000 }],
    ['lowest jitter is -20 %', { random: 0 }, { retry: true, delayMs: 8_000 }],
    ['highest jitter approaches +20 %', { random: 0.999999 }, { retry: true, delayMs: 12_000 }],
    ['second step', { attempt: 2 }, { retry: true, delayMs: 20_000 }],
    ['after the last step: dead', { attempt: 3 }, { retry: false, reason: 'schedule exhausted' }],
    ['an empty schedule means no retries', { schedule: [] }, { retry: false, reason: 'schedule exhausted' }],
    ['a longer Retry-After wins', { retryAfterMs: 60_000 }, { retry: true, delayMs: 60_000 }],
    ['a shorter Retry-After never shortens the wait', { retryAfterMs: 1_000 }, { retry: true, delayMs: 10_000 }],
    ['Retry-After is capped at 24 h', { retryAfterMs: 7 * 24 * 3600 * 1000 }, { retry: true, delayMs: RETRY_AFTER_CAP_MS }],
    ['past maxAge: dead', { maxAgeSeconds: 5 }, { retry: false, reason: 'max age reached' }],
    ['within maxAge: retry', { maxAgeSeconds: 3600 }, { retry: true, delayMs: 10_000 }],
    ['the jitter applies to the default schedule too', { schedule: DEFAULT_SCHEDULE_SECONDS, attempt: 10, random: 0 }, { retry: true, delayMs: 0.8 * 86_400_000 }],
    ['the default schedule has ten retries', { schedule: DEFAULT_SCHEDULE_SECONDS, attempt: 11 }, { retry: false, reason: 'schedule exhausted' }],
  ])('%s', (_name, input, expected) => {
    expect(nextAttempt({ ...base, ...input })).toEqual(expected);
  });

  it('spreads delays across the whole ±20 % band', () => {
    const delays = Array.from({ length: 1000 }, (_, i) => (nextAttempt({ ...base, random: i / 1000 }) as { delayMs: number }).delayMs);
    expect(Math.min(...delays)).toBe(8_000);
    expect(Math.max(...delays)).toBeGreaterThan(11_980);
    expect(Math.max(...delays)).toBeLessThanOrEqual(12_000);
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | undefined, number | null]>([
    [undefined, null],
    ['', null],
    ['120', 120_000],
    [' 3 ', 3_000],
    ['Mon, 23 Nov 2026 12:01:00 GMT', 60_000],
    ['Mon, 23 Nov 2026 11:00:00 GMT', 0],
    ['soon', null],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
