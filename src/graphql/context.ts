import type { EntityManager } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Principal } from '../auth/principal.js';
import type { Keyring } from '../crypto/keyring.js';
import type { RelayUrlCheck } from '../delivery/ssrf-guard.js';
import type { DeliveryFeed } from '../live/delivery-feed.js';
import type { EventFeed } from '../live/event-feed.js';
import type { RelayFeed } from '../live/relay-feed.js';
import type { Logger } from '../log.js';
import type { Loaders } from './loaders.js';
import { NIL_UUID, UUID_PATTERN } from '../ids.js';

/** What every resolver may use; built per request (and per websocket operation). */
export interface GraphQLContext {
  /** A forked EntityManager: no identity map shared across requests. */
  em: EntityManager;
  pool: Pool;
  boss: PgBoss;
  keyring: Keyring;
  principal: Principal;
  publicUrl: string;
  loaders: Loaders;
  /** HOOKYARD_RETENTION_HOURS: nothing older is kept, so no query needs to look further back. */
  retentionHours: number;
  /** Delivery status changes of every process, for `deliveryUpdated`. */
  deliveryFeed: DeliveryFeed;
  /** Relay status changes of every process, for `relayStatusChanged`. */
  relayFeed: RelayFeed;
  /** Accepted events of every process, for `eventReceived`. */
  eventFeed: EventFeed;
  log: Logger;
  /** HOOKYARD_ALERT_RELAY_ID: where `disableRelay` sends its alert event, when set. */
  alertRelayId?: string;
  /** `sendTestEvent`: one signed test delivery to the relay now; the attempt id, or undefined when no such relay. */
  sendTestEvent(relayId: string): Promise<string | undefined>;
  /** The SSRF guard's verdict on a relay URL or a relay's proxy URL, at save time. */
  checkRelayUrl(url: string, kind: 'target' | 'proxy'): Promise<RelayUrlCheck>;
  /** Over websockets: closes this client's socket because it stopped reading (said once). */
  notReading?: () => void;
  /** A syntactically valid id, or the nil UUID (which matches nothing) for anything else. */
  uuid(id: string): string;
}


export function toUuid(id: string): string {
  return UUID_PATTERN.test(id) ? id.toLowerCase() : NIL_UUID;
}
