import type { Logger } from '../log.js';
import { notifyCoalesced, type Queryable } from './coalesced-notify.js';
import type { NotifyBus } from './notify-bus.js';

/** New events are announced here: `<event id>:<source id or empty>` entries joined by `,`. */
export const EVENT_CHANNEL = 'hookyard_event';

/** Announces accepted events on the caller's transaction (sent at commit), coalesced. */
export function notifyNewEvents(client: Queryable, events: readonly { id: string; sourceId: string | null }[]): Promise<void> {
  return notifyCoalesced(client, EVENT_CHANNEL, events.map((e) => `${e.id}:${e.sourceId ?? ''}`));
}

export type EventListener = (event: { id: string; sourceId: string | null }) => void;

/** New events from every process, for `eventReceived`. */
export class EventFeed {
  private readonly listeners = new Set<EventListener>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: NotifyBus,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe(EVENT_CHANNEL, (payload) => {
      if (this.listeners.size === 0) return;
      for (const entry of payload.split(',')) {
        const [id, sourceId] = entry.split(':');
        if (!id) continue;
        for (const listener of this.listeners) {
          try {
            listener({ id, sourceId: sourceId || null });
          } catch (error) {
            this.log.warn({ err: error }, 'event subscriber failed');
          }
        }
      }
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.listeners.clear();
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
