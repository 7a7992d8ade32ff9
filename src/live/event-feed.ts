import type { Pool } from 'pg';
import type { Logger } from '../log.js';
import { channels } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';
import { ChangeLogFeed, type ChangeLog, type LogEntry } from './change-log-feed.js';

/** One row of `event_arrival`: an event accepted on any process, as the feed announces it. */
export interface EventArrival {
  id: string;
  sourceId: string | null;
  /** The event's number in `event_arrival`: the item's cursor. */
  seq: number;
}

/** Every stored event, in commit order. */
export const EVENT_LOG: ChangeLog<EventArrival> = {
  name: 'event',
  table: 'event_arrival',
  channel: channels.event,
  async read(pool: Pool, after: number, limit: number): Promise<LogEntry<EventArrival>[]> {
    const { rows } = await pool.query<{ seq: string; event_id: string; source_id: string | null }>(
      'select seq::text as seq, event_id, source_id from event_arrival where seq > $1 order by seq limit $2',
      [after, limit],
    );
    return rows.map((row) => ({ seq: Number(row.seq), item: { id: row.event_id, sourceId: row.source_id, seq: Number(row.seq) } }));
  },
};

/** New events from every process, for `eventReceived`. */
export class EventFeed extends ChangeLogFeed<EventArrival> {
  constructor(pool: Pool, bus: NotifyBus, log: Logger) {
    super(pool, bus, log, EVENT_LOG);
  }
}
