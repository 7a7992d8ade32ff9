import type { Pool } from 'pg';
import type { DeliveryRow } from '../db/delivery-row.js';
import type { Logger } from '../log.js';
import { ChangeLogFeed, type ChangeLog, type LogEntry } from './change-log-feed.js';
import { channels } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';

/** A delivery as it stood at one status change: the row, with the logged status and count. */
export interface LiveDelivery extends DeliveryRow {
  source_id: string | null;
  event_type: string;
  /** The change's number in `delivery_change`: the item's cursor. */
  seq: number;
}

type Row = Omit<LiveDelivery, 'seq' | 'id'> & { seq: string; id: string | null };

// The status and count are the logged ones: the row may have moved on since.
const READ = `
  select c.seq::text as seq, c.status, c.attempt_count, d.id, d.event_id, d.relay_id, d.subscription_id, d.next_attempt_at, d.last_attempt_at,
         d.created_at, d.updated_at, d.ordering_key, d.unordered_reason, d.batch_id, e.source_id, e.type as event_type
  from delivery_change c left join delivery d on d.id = c.delivery_id left join event e on e.id = d.event_id
  where c.seq > $1 order by c.seq limit $2`;

/** Every status change of every delivery, in commit order. */
export const DELIVERY_LOG: ChangeLog<LiveDelivery> = {
  name: 'delivery',
  table: 'delivery_change',
  channel: channels.delivery,
  async read(pool: Pool, after: number, limit: number): Promise<LogEntry<LiveDelivery>[]> {
    const { rows } = await pool.query<Row>(READ, [after, limit]);
    return rows.map((row) => {
      const seq = Number(row.seq);
      return { seq, item: row.id === null ? undefined : { ...row, id: row.id, seq } };
    });
  },
  partitionOf: (delivery) => delivery.relay_id,
};

/** Delivery status changes from every process, for `deliveryUpdated`. */
export class DeliveryFeed extends ChangeLogFeed<LiveDelivery> {
  constructor(pool: Pool, bus: NotifyBus, log: Logger) {
    super(pool, bus, log, DELIVERY_LOG);
  }
}
