import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123232418_initial } from './Migration20261123232418_initial.js';
import { Migration20261124000000_retention_indexes } from './Migration20261124000000_retention_indexes.js';
import { Migration20261124001000_relay_health } from './Migration20261124001000_relay_health.js';
import { Migration20261130000000_scrub_signatures } from './Migration20261130000000_scrub_signatures.js';
import { Migration20261130010000_token_expiry } from './Migration20261130010000_token_expiry.js';
import { Migration20261130020000_audit_log } from './Migration20261130020000_audit_log.js';
import { Migration20261130100000_rejected_count } from './Migration20261130100000_rejected_count.js';
import { Migration20261130200000_relay_proxy_url_sealed } from './Migration20261130200000_relay_proxy_url_sealed.js';
import { Migration20261201000000_delivery_claim } from './Migration20261201000000_delivery_claim.js';
import { Migration20261201000000_live_change_log } from './Migration20261201000000_live_change_log.js';
import { Migration20261201100000_relay_rate } from './Migration20261201100000_relay_rate.js';
import { Migration20261202000000_notify_function } from './Migration20261202000000_notify_function.js';
import { Migration20261203050000_slim_delivery_indexes } from './Migration20261203050000_slim_delivery_indexes.js';
import { Migration20261204000000_event_trace } from './Migration20261204000000_event_trace.js';
import { Migration20261205000000_ordering } from './Migration20261205000000_ordering.js';
import { Migration20261206000000_delivery_subscription_index } from './Migration20261206000000_delivery_subscription_index.js';
import { Migration20261206500000_batching } from './Migration20261206500000_batching.js';
import { Migration20261207000000_operational_events } from './Migration20261207000000_operational_events.js';
import { Migration20261208000000_email_relays } from './Migration20261208000000_email_relays.js';
import { Migration20261209000000_routing_version } from './Migration20261209000000_routing_version.js';

/** Listed explicitly (no glob) so the compiled app and the TypeScript tests find the same set. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261123232418_initial', class: Migration20261123232418_initial },
  { name: 'Migration20261124000000_retention_indexes', class: Migration20261124000000_retention_indexes },
  { name: 'Migration20261124001000_relay_health', class: Migration20261124001000_relay_health },
  { name: 'Migration20261130000000_scrub_signatures', class: Migration20261130000000_scrub_signatures },
  { name: 'Migration20261130010000_token_expiry', class: Migration20261130010000_token_expiry },
  { name: 'Migration20261130020000_audit_log', class: Migration20261130020000_audit_log },
  { name: 'Migration20261130100000_rejected_count', class: Migration20261130100000_rejected_count },
  { name: 'Migration20261130200000_relay_proxy_url_sealed', class: Migration20261130200000_relay_proxy_url_sealed },
  { name: 'Migration20261201000000_delivery_claim', class: Migration20261201000000_delivery_claim },
  { name: 'Migration20261201000000_live_change_log', class: Migration20261201000000_live_change_log },
  { name: 'Migration20261201100000_relay_rate', class: Migration20261201100000_relay_rate },
  { name: 'Migration20261202000000_notify_function', class: Migration20261202000000_notify_function },
  { name: 'Migration20261203050000_slim_delivery_indexes', class: Migration20261203050000_slim_delivery_indexes },
  { name: 'Migration20261204000000_event_trace', class: Migration20261204000000_event_trace },
  { name: 'Migration20261205000000_ordering', class: Migration20261205000000_ordering },
  { name: 'Migration20261206000000_delivery_subscription_index', class: Migration20261206000000_delivery_subscription_index },
  { name: 'Migration20261206500000_batching', class: Migration20261206500000_batching },
  { name: 'Migration20261207000000_operational_events', class: Migration20261207000000_operational_events },
  { name: 'Migration20261208000000_email_relays', class: Migration20261208000000_email_relays },
  { name: 'Migration20261209000000_routing_version', class: Migration20261209000000_routing_version },
];
