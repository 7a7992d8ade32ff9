import type { Logger } from '../log.js';
import type { NotifyBus } from './notify-bus.js';

/**
 * The notifications of one channel, parsed into items and handed to this process's
 * listeners (GraphQL subscriptions). A listener that throws is logged and skipped.
 */
export class ChannelFeed<T> {
  private readonly listeners = new Set<(item: T) => void>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: NotifyBus,
    private readonly channel: string,
    private readonly parse: (payload: string) => T[],
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe(this.channel, (payload) => {
      if (this.listeners.size === 0) return;
      for (const item of this.parse(payload)) {
        for (const listener of this.listeners) {
          try {
            listener(item);
          } catch (error) {
            this.log.warn({ err: error, channel: this.channel }, 'live subscriber failed');
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

  listen(listener: (item: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
