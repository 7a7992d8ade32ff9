import type { Logger } from '../log.js';
import { ChannelFeed } from './channel-feed.js';
import { channels } from '../db/notify/channels.js';
import type { NotifyBus } from '../db/notify/notify-bus.js';

/** Relay enable/disable notifications from every process, for `relayStatusChanged`. */
export class RelayFeed extends ChannelFeed<string> {
  constructor(bus: NotifyBus, log: Logger) {
    super(bus, channels.relay, log);
  }
}
