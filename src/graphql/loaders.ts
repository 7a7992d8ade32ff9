import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { Pool } from 'pg';
import { Relay, Source } from '../db/entities/index.js';
import { EVENT_COLUMNS, toEventType, type EventRow } from './resolvers/event-rows.js';
import type { EventType } from './types/event.js';

/** Batches the `x.relay` / `x.event` / `x.source` look-ups of one request into one query each. */
export interface Loaders {
  event: DataLoader<string, EventType | null>;
  relay: DataLoader<string, Relay | null>;
  source: DataLoader<string, Source | null>;
}

function byId<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>, options: { cache: boolean } = { cache: true }): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await load([...ids]);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  }, options);
}

export function createLoaders(em: EntityManager, pool: Pool): Loaders {
  return {
    // Batched but not cached: a subscription's context lives as long as the socket, and a
    // cache there would keep every event (body included) it ever streamed.
    event: byId(async (ids) => (await pool.query<EventRow>(`select ${EVENT_COLUMNS} from event e where e.id = any($1::uuid[])`, [ids])).rows.map(toEventType), { cache: false }),
    relay: byId((ids) => em.find(Relay, { id: { $in: ids } })),
    source: byId((ids) => em.find(Source, { id: { $in: ids } })),
  };
}
