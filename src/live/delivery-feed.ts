import type { Pool } from 'pg';
import type { DeliveryRow } from '../db/delivery-row.js';
import type { Logger } from '../log.js';
import { DELIVERY_CHANNEL, parseDeliveryChanges } from './delivery-changes.js';
import type { NotifyBus } from './notify-bus.js';

/** A delivery as it stood at one status change: the row, with the notified status and count. */
export interface LiveDelivery extends DeliveryRow {
  source_id: string | null;
  event_type: string;
}

export type LiveListener = (delivery: LiveDelivery) => void;

/**
 * Turns delivery notifications into full rows for this process's subscribers. Each
 * notification is loaded once (one query for all the changes it carries) and shared by every
 * subscriber; notifications are handled one after another so each delivery's statuses reach
 * clients in the order they were committed. The row's status and attempt count are taken from
 * the notification, since the row may already have moved on by the time it is read.
 */
export class DeliveryFeed {
  private readonly listeners = new Set<LiveListener>();
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly bus: NotifyBus,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe(DELIVERY_CHANNEL, (payload) => {
      if (this.listeners.size === 0) return;
      this.queue = this.queue.then(() => this.handle(payload)).catch((error: unknown) => this.log.warn({ err: error }, 'live feed could not load a delivery'));
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.listeners.clear();
  }

  listen(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  private async handle(payload: string): Promise<void> {
    const changes = parseDeliveryChanges(payload);
    if (changes.length === 0 || this.listeners.size === 0) return;
    const { rows } = await this.pool.query<Omit<LiveDelivery, 'status' | 'attempt_count'>>(
      `select d.id, d.event_id, d.relay_id, d.next_attempt_at, d.last_attempt_at, d.created_at, d.updated_at,
              e.source_id, e.type as event_type
       from delivery d join event e on e.id = d.event_id where d.id = any($1::uuid[])`,
      [changes.map((c) => c.id)],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const change of changes) {
      const row = byId.get(change.id);
      if (!row) continue;
      const delivery: LiveDelivery = { ...row, status: change.status, attempt_count: change.attemptCount };
      for (const listener of this.listeners) {
        try {
          listener(delivery);
        } catch (error) {
          this.log.warn({ err: error }, 'live subscriber failed');
        }
      }
    }
  }
}
