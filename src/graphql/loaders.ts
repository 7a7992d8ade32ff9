import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import { EventSubscription, Relay, Source } from '../db/entities/index.js';
import { EVENT_COLUMNS, toEventType, type EventRow } from './mappers/event.js';
import { relayHealthOf } from './relay-health-read.js';
import type { EventType } from './types/event.js';
import type { RelayHealth } from './types/relay-health.js';

/** Batches the `x.relay` / `x.event` / `x.source` look-ups of one request into one query each. */
export interface Loaders {
  event: Pick<DataLoader<string, EventType | null>, 'load'>;
  relay: DataLoader<string, Relay | null>;
  source: DataLoader<string, Source | null>;
  /** `Delivery.subscription`: null for a rule deleted since. */
  subscription: DataLoader<string, EventSubscription | null>;
  /** `Relay.health` of every relay in the response, in one pair of statements. */
  relayHealth: DataLoader<string, RelayHealth>;
  /** `Delivery.blockedBy`: the head of the key each waiting delivery is behind. */
  blockedBy: DataLoader<string, string | null>;
}

/** Waiting deliveries of ordered keys that are not their line's head, with the head they wait for. */
const BLOCKED_BY = `
  select d.id, l.head_id from delivery d join ordering_line l on l.relay_id = d.relay_id and l.key = d.ordering_key
  where d.id = any($1::uuid[]) and d.status in ('PENDING', 'RETRYING', 'HELD') and l.head_id <> d.id`;

async function blockedByOf(pool: Pool, ids: readonly string[]): Promise<(string | null)[]> {
  const { rows } = await pool.query<{ id: string; head_id: string }>(BLOCKED_BY, [ids]);
  const heads = new Map(rows.map((r) => [r.id, r.head_id]));
  return ids.map((id) => heads.get(id) ?? null);
}

function byId<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>, options: { cache: boolean } = { cache: true }): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await load([...ids]);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  }, options);
}

function eventsById(pool: Pool): (ids: string[]) => Promise<EventType[]> {
  return async (ids) => (await pool.query<EventRow>(`select ${EVENT_COLUMNS} from event e where e.id = any($1::uuid[])`, [ids])).rows.map(toEventType);
}

/** How long a live notification's event stays shared: its subscribers resolve within moments. */
const SHARED_EVENT_TTL_MS = 10_000;
/** Bodies held at once for sharing, at most (an event body is at most a few MiB). */
const SHARED_EVENT_BYTES = 32 * 1024 * 1024;

/**
 * Events for the live subscriptions of the whole process: one notification reaches every
 * subscriber at once, so each of its events is loaded once (concurrent look-ups share one
 * query, batched across ids) and kept briefly, bounded by bytes. Events do not change once
 * stored, so a shared copy is never stale.
 */
export class SharedEventLoader {
  private readonly batch: DataLoader<string, EventType | null>;
  private readonly cache: LRUCache<string, EventType>;

  constructor(pool: Pool) {
    this.batch = byId(eventsById(pool), { cache: false });
    this.cache = new LRUCache<string, EventType>({
      maxSize: SHARED_EVENT_BYTES,
      sizeCalculation: (event) => Math.max(1, event.rawBody.length + 1024),
      ttl: SHARED_EVENT_TTL_MS,
      fetchMethod: async (id) => (await this.batch.load(id)) ?? undefined,
    });
  }

  async load(id: string): Promise<EventType | null> {
    return (await this.cache.fetch(id)) ?? null;
  }
}

/** `sharedEvents`, for websocket operations: events through the process-wide shared loader. */
export function createLoaders(em: EntityManager, pool: Pool, retentionHours: number, sharedEvents?: SharedEventLoader): Loaders {
  return {
    // Batched but not cached: a subscription's context lives as long as the socket, and a
    // cache there would keep every event (body included) it ever streamed.
    event: sharedEvents ?? byId(eventsById(pool), { cache: false }),
    relay: byId((ids) => em.find(Relay, { id: { $in: ids } })),
    source: byId((ids) => em.find(Source, { id: { $in: ids } })),
    // Not cached: a websocket's context outlives edits to the rule.
    subscription: byId((ids) => em.find(EventSubscription, { id: { $in: ids } }), { cache: false }),
    // Not cached: a relay's health changes while a subscription's context lives.
    relayHealth: new DataLoader((ids) => relayHealthOf(pool, ids, retentionHours), { cache: false }),
    // Not cached: a delivery's head changes as its key's line moves.
    blockedBy: new DataLoader((ids) => blockedByOf(pool, ids), { cache: false }),
  };
}
