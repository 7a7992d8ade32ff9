import { OPERATIONS_SOURCE_ID } from './operations-source.js';

/**
 * Event-type patterns of a subscription: `*` matches anything; `a.*` matches one or more
 * segments after `a` (never `a` itself); `.` and `/` both separate segments (Shopify topics
 * use `/`); anything else matches exactly, segment by segment.
 */
function segments(type: string): string[] {
  return type.split(/[./]/);
}

export function matchesEventType(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  const want = segments(pattern);
  const have = segments(type);
  if (want[want.length - 1] === '*') {
    const prefix = want.slice(0, -1);
    if (have.length <= prefix.length) return false;
    return prefix.every((segment, i) => segment === have[i]);
  }
  return want.length === have.length && want.every((segment, i) => segment === have[i]);
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => matchesEventType(pattern, type));
}

/**
 * A subscription without sources matches every source, published events included, except the
 * built-in source of Hookyard's operational events: those reach only subscriptions that name
 * it, so a catch-all rule made before they existed is not sent alerts it never asked for.
 */
export function matchesSource(sourceIds: readonly string[] | null | undefined, sourceId: string | null): boolean {
  if (!sourceIds || sourceIds.length === 0) return sourceId !== OPERATIONS_SOURCE_ID;
  return sourceId !== null && sourceIds.includes(sourceId);
}
