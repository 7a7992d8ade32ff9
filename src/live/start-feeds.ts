import type { Pool } from 'pg';
import type { Logger } from '../log.js';
import { DeliveryFeed } from './delivery-feed.js';
import { EventFeed } from './event-feed.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';
import { RelayFeed } from './relay-feed.js';

export interface Feeds {
  deliveries: DeliveryFeed;
  events: EventFeed;
  relays: RelayFeed;
  /** Live subscribers over all three, for metrics. */
  subscriberCount(): number;
  stop(): void;
}

/** The live feeds an API process serves subscriptions from, on its one LISTEN connection. */
export function startFeeds(pool: Pool, bus: NotifyBus, log: Logger): Feeds {
  const deliveries = new DeliveryFeed(pool, bus, log);
  const events = new EventFeed(pool, bus, log);
  const relays = new RelayFeed(bus, log);
  deliveries.start();
  events.start();
  relays.start();
  return {
    deliveries,
    events,
    relays,
    subscriberCount: () => deliveries.subscriberCount + events.subscriberCount + relays.subscriberCount,
    stop() {
      relays.stop();
      events.stop();
      deliveries.stop();
    },
  };
}
