import type { Logger } from '../log.js';
import { notifyCoalesced, type Queryable } from './coalesced-notify.js';
import { ChannelFeed } from './channel-feed.js';
import type { NotifyBus } from './notify-bus.js';

/** New events are announced here: `<event id>:<source id or empty>` entries joined by `,`. */
export const EVENT_CHANNEL = 'hookyard_event';

/** Announces accepted events on the caller's transaction (sent at commit), coalesced. */
export function notifyNewEvents(client: Queryable, events: readonly { id: string; sourceId: string | null }[]): Promise<void> {
  return notifyCoalesced(client, EVENT_CHANNEL, events.map((e) => `${e.id}:${e.sourceId ?? ''}`));
}

export interface NewEvent {
  id: string;
  sourceId: string | null;
}

function parseNewEvents(payload: string): NewEvent[] {
  return payload.split(',').flatMap((entry) => {
    const [id, sourceId] = entry.split(':');
    return id ? [{ id, sourceId: sourceId || null }] : [];
  });
}

/** New events from every process, for `eventReceived`. */
export class EventFeed extends ChannelFeed<NewEvent> {
  constructor(bus: NotifyBus, log: Logger) {
    super(bus, EVENT_CHANNEL, parseNewEvents, log);
  }
}
