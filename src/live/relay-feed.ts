import type { Logger } from '../log.js';
import { ChannelFeed } from './channel-feed.js';
import type { NotifyBus } from './notify-bus.js';

/** The channel relay status changes are announced on (`<relay id>`). */
export const RELAY_CHANNEL = 'hookyard_relay';

/** Relay enable/disable notifications from every process, for `relayStatusChanged`. */
export class RelayFeed extends ChannelFeed<string> {
  constructor(bus: NotifyBus, log: Logger) {
    super(bus, RELAY_CHANNEL, (relayId) => [relayId], log);
  }
}
