import { describe, expect, it } from 'vitest';
import { matchesEventType, matchesSource } from '../../src/routing/match.js';
import { OPERATIONS_SOURCE_ID } from '../../src/routing/operations-source.js';

describe('event-type patterns', () => {
  it.each<[string, string, boolean]>([
    ['*', 'anything.at.all', true],
    ['*', 'push', true],
    ['push', 'push', true],
    ['push', 'pull_request', false],
    ['payment.*', 'payment.succeeded', true],
    ['payment.*', 'payment.intent.created', true],
    ['payment.*', 'payment', false],
    ['payment.*', 'payments.succeeded', false],
    ['payment.succeeded', 'payment.succeeded', true],
    ['payment.succeeded', 'payment.succeeded.late', false],
    ['orders/*', 'orders/create', true],
    ['orders.*', 'orders/create', true],
    ['orders/create', 'orders.create', true],
    ['a.*', 'a.', true],
    ['Push', 'push', false],
  ])('%s vs %s → %s', (pattern, type, expected) => {
    expect(matchesEventType(pattern, type)).toBe(expected);
  });
});

describe('source scoping', () => {
  it('matches every source, published events included, when no sources are listed', () => {
    expect(matchesSource(null, 's1')).toBe(true);
    expect(matchesSource([], null)).toBe(true);
  });
  it('matches only the listed sources otherwise', () => {
    expect(matchesSource(['s1'], 's1')).toBe(true);
    expect(matchesSource(['s1'], 's2')).toBe(false);
    expect(matchesSource(['s1'], null)).toBe(false);
  });
  it('sends operational events only to subscriptions that name the built-in source', () => {
    expect(matchesSource(null, OPERATIONS_SOURCE_ID)).toBe(false);
    expect(matchesSource([], OPERATIONS_SOURCE_ID)).toBe(false);
    expect(matchesSource(['s1'], OPERATIONS_SOURCE_ID)).toBe(false);
    expect(matchesSource(['s1', OPERATIONS_SOURCE_ID], OPERATIONS_SOURCE_ID)).toBe(true);
  });
});
