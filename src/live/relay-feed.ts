import type { Logger } from '../log.js';
import type { NotifyBus } from './notify-bus.js';

/** The channel relay status changes are announced on (`<relay id>`). */
export const RELAY_CHANNEL = 'hookyard_relay';

export type RelayListener = (relayId: string) => void;

/** Relay enable/disable notifications from every process, for `relayStatusChanged`. */
export class RelayFeed {
  private readonly listeners = new Set<RelayListener>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: NotifyBus,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe(RELAY_CHANNEL, (relayId) => {
      for (const listener of this.listeners) {
        try {
          listener(relayId);
        } catch (error) {
          this.log.warn({ err: error }, 'relay status subscriber failed');
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

  listen(listener: RelayListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
