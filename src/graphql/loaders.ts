import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { Event, Relay, Source } from '../db/entities/index.js';

/** Batches the `x.relay` / `x.event` / `x.source` look-ups of one request into one query each. */
export interface Loaders {
  event: DataLoader<string, Event | null>;
  relay: DataLoader<string, Relay | null>;
  source: DataLoader<string, Source | null>;
}

function byId<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await load([...ids]);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

export function createLoaders(em: EntityManager): Loaders {
  return {
    event: byId((ids) => em.find(Event, { id: { $in: ids } })),
    relay: byId((ids) => em.find(Relay, { id: { $in: ids } })),
    source: byId((ids) => em.find(Source, { id: { $in: ids } })),
  };
}
