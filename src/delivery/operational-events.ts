import type { PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { maskUrl } from '../crypto/redact.js';
import type { DeliveryStatus } from '../db/entities/delivery.js';
import { storeOperationalEvents, type OperationalEvent } from '../events/operational-event.js';
import { OPERATIONS_SOURCE_SLUG } from '../routing/operations-source.js';
import type { SendOutcome } from './http-sender.js';
import type { FailingRelay, HealthPolicy } from './relay-health.js';

/** What `delivery.dead` reads of an applied outcome (transitions.ts `TransitionItem`). */
export interface ReportedOutcome {
  row: { relay_id: string; event_id: string; type: string; source_slug: string | null; url: string };
  job: { deliveryId: string };
  next: { status: DeliveryStatus; attemptCount: number };
  attempt: { outcome: SendOutcome };
  result: string;
}

/** A relay whose success ended a reported streak (relay-health.ts `recordRecoveriesSql`). */
export interface RecoveredRelay {
  id: string;
  name: string;
  url: string;
}

/**
 * The operational events of a batch of outcomes, in one insert (events/operational-event.ts):
 * `delivery.dead` for each delivery the batch made DEAD, `relay.failing` for each relay whose
 * streak reached the warning point, `relay.recovered` for each whose success ended one. No
 * `delivery.dead` for a delivery of an operational event (an alert relay that fails would
 * otherwise report its own failures to itself without end) nor of a test send.
 */
export async function reportOutcomes(client: PoolClient, boss: PgBoss, policy: HealthPolicy, batch: { applied: readonly ReportedOutcome[]; failing: readonly FailingRelay[]; recovered: readonly RecoveredRelay[] }): Promise<void> {
  const dead = batch.applied.filter((i) => i.next.status === 'DEAD' && i.result !== 'test' && i.row.source_slug !== OPERATIONS_SOURCE_SLUG);
  const events: OperationalEvent[] = [];
  if (dead.length > 0) {
    const names = await relayNames(client, dead.map((i) => i.row.relay_id));
    for (const i of dead) {
      const outcome = i.attempt.outcome;
      events.push({ type: 'delivery.dead', data: {
        deliveryId: i.job.deliveryId, eventId: i.row.event_id, eventType: i.row.type, sourceSlug: i.row.source_slug,
        relayId: i.row.relay_id, relayName: names.get(i.row.relay_id) ?? null, relayUrl: maskUrl(i.row.url), attempts: i.next.attemptCount,
        lastAttempt: { responseStatus: outcome.status, errorClass: outcome.ok ? null : outcome.errorClass, errorMessage: outcome.ok ? null : outcome.message.slice(0, 300) },
      } });
    }
  }
  for (const r of batch.failing) {
    events.push({ type: 'relay.failing', data: {
      relayId: r.relayId, name: r.name, url: maskUrl(r.url), consecutiveDead: r.consecutiveDead, failingSince: r.failingSince.toISOString(),
      disableAfterDead: policy.deadThreshold, disableAfterFailingHours: policy.failingHours,
    } });
  }
  for (const r of batch.recovered) events.push({ type: 'relay.recovered', data: { relayId: r.id, name: r.name, url: maskUrl(r.url) } });
  await storeOperationalEvents(client, boss, events);
}

async function relayNames(client: PoolClient, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await client.query<{ id: string; name: string }>('select id, name from relay where id = any($1::uuid[])', [[...new Set(ids)]]);
  return new Map(rows.map((r) => [r.id, r.name]));
}
