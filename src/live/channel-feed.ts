import type { Logger } from '../log.js';
import type { Channel } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';

/**
 * The entries of one channel, handed to this process's listeners (GraphQL subscriptions) as
 * they come. It keeps nothing, so a reconnect has nothing to reload: what was sent while the
 * connection was down is not replayed. A listener that throws is logged and skipped.
 */
export class ChannelFeed<T> {
  private readonly listeners = new Set<(item: T) => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: NotifyBus,
    private readonly channel: Channel<T>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe(this.channel, {
      receive: (items) => {
        for (const item of items) {
          for (const listener of this.listeners) {
            try {
              listener(item);
            } catch (error) {
              this.log.warn({ err: error, channel: this.channel.name }, 'live subscriber failed');
            }
          }
        }
      },
      resync: null,
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.listeners.clear();
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  listen(listener: (item: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
