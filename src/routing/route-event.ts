import { LRUCache } from 'lru-cache';
import { parseJsonOrUndefined } from '../lenient-json.js';
import { matchesFilter, parseFilter, type CompiledFilter, type FilterDocument, type Json } from './filter.js';
import { matchesAny, matchesSource } from './match.js';

/** What routing looks at: the source, the type, and (for payload filters) body and headers. */
export interface RoutableEvent {
  sourceId: string | null;
  type: string;
  headers: Record<string, string>;
  contentType: string | null;
  body: Buffer;
}

export interface SubscriptionRow {
  id: string;
  relay_id: string;
  event_types: string[];
  source_ids: string[] | null;
  filter: unknown;
  relay_enabled: boolean;
}

/** Compiled filters kept at once; one pushed out is only compiled again. */
const MAX_COMPILED = 10_000;

/**
 * Compiled filters by their JSON text: compiled once, not per event. Filters were validated
 * when saved; one that no longer parses (a stricter build) matches nothing rather than all
 * (`filter: null`, boxed because lru-cache holds no null).
 */
const compiled = new LRUCache<string, { filter: CompiledFilter | null }>({ max: MAX_COMPILED });

function compile(filter: unknown): CompiledFilter | null {
  const key = JSON.stringify(filter);
  let entry = compiled.get(key);
  if (entry === undefined) {
    const parsed = parseFilter(filter);
    entry = { filter: parsed.ok ? parsed.filter : null };
    compiled.set(key, entry);
  }
  return entry.filter;
}

/** Builds the filter document lazily: the body is parsed once, and only if a filter needs it. */
export function filterDocument(event: RoutableEvent): () => FilterDocument {
  let doc: FilterDocument | undefined;
  return () => {
    if (!doc) {
      // Not JSON (a form post, say): body filters see null.
      doc = { body: (parseJsonOrUndefined(event.body) ?? null) as Json, headers: event.headers };
    }
    return doc;
  };
}

/** Whether a subscription takes the event: its sources, its type patterns and its payload filter. */
export function subscriptionMatches(subscription: SubscriptionRow, event: RoutableEvent, doc: () => FilterDocument = filterDocument(event)): boolean {
  if (!matchesSource(subscription.source_ids, event.sourceId) || !matchesAny(subscription.event_types, event.type)) return false;
  if (subscription.filter === null || subscription.filter === undefined) return true;
  const filter = compile(subscription.filter);
  return filter !== null && matchesFilter(filter, doc());
}
