import type { ClientBase } from 'pg';
import type { PgBoss } from 'pg-boss';
import { channels, deliveryEntrySql } from '../db/notify/channels.js';
import { notifySql } from '../db/notify/send.js';
import { deliveryJobsOf } from '../delivery/enqueue.js';
import { newId } from '../ids.js';
import { DELIVERY_QUEUE } from '../queue/boss.js';
import { deliveryJobValues, insertDeliveryJobsSql, jobTable } from '../queue/insert-jobs.js';
import { byRequest, eventValues, findDuplicates, INSERT_EVENTS_CTES, type AcceptResult, type NewEvent } from './accept.js';
import type { CandidateCache } from './candidate-cache.js';
import { deliveryColumns, FanOutBatch, planAmong, plainRows, transitionsOf } from './fan-out.js';

/** SQLSTATE of `hookyard_routing_is`: the routing version moved since the candidates were read. */
export const ROUTING_CHANGED = 'HKR01';

/**
 * A batch's events, deliveries, pg-boss jobs and both NOTIFYs in one statement, outside any
 * explicit transaction: one round trip where `insertAll` takes four (begin, events with their
 * candidates, deliveries with their jobs, commit). The deliveries were planned here against the
 * cached candidates, so the statement writes only those of events it actually inserted (a
 * repeated idempotency key writes nothing), and `hookyard_routing_is` ($13) rolls the whole
 * statement back when the routing changed since they were read. The last select names both
 * NOTIFY CTEs: a CTE that only reads runs only when something reads it.
 */
const statements = new Map<string, { name: string; text: string }>();
function oneStatement(table: string): { name: string; text: string } {
  let statement = statements.get(table);
  if (!statement) {
    statement = {
      name: `hookyard_accept_in_one_statement_${statements.size}`,
      text: `
  with ${INSERT_EVENTS_CTES},
  deliveries as (
    insert into delivery (id, event_id, relay_id, subscription_id, status, attempt_count, created_at, updated_at)
    select d.id, d.event_id, d.relay_id, d.subscription_id, d.status, 0, now(), now()
    from unnest($14::uuid[], $15::uuid[], $16::uuid[], $17::uuid[], $18::text[]) as d(id, event_id, relay_id, subscription_id, status)
    where d.event_id in (select id from inserted)
    returning id, status),
  jobs as (${insertDeliveryJobsSql(table, DELIVERY_QUEUE, 19, 'x.delivery_id in (select id from deliveries)')}),
  announced as (
    select ${notifySql(channels.delivery, `array_agg(${deliveryEntrySql('d.id', 'd.status', '0')})`)} as sent from deliveries d having count(*) > 0)
  select (select hookyard_routing_is($13::bigint)) as current, array(select id::text from inserted) as ids,
         (select count(*) from notified) + (select count(*) from announced) as notifications`,
    };
    statements.set(table, statement);
  }
  return statement;
}

export interface OneStatementBatch {
  run(client: ClientBase): Promise<AcceptResult[][]>;
}

/**
 * The batch as one statement, when it can be: every source's candidates cached at one version,
 * and nothing that needs a statement of its own (content dedupe, Hookyard's own addressed
 * events, a delivery of an ordered relay). Otherwise nothing, and the caller takes `insertAll`.
 * `run` throws with code `ROUTING_CHANGED` when the routing moved: nothing was written.
 */
export function planOneStatement(boss: PgBoss, cache: CandidateCache, requests: readonly (readonly NewEvent[])[]): OneStatementBatch | undefined {
  const events = requests.flat();
  if (events.some((e) => e.dedupe || e.to || e.alsoTo)) return undefined;
  const known = cache.allAt(events.map((e) => e.sourceId));
  if (!known) return undefined;
  const ids = events.map(() => newId());
  const batch = new FanOutBatch();
  const planned = events.map((e, i) => planAmong(batch, known.bySource.get(e.sourceId)!, { id: ids[i]!, ...e }));
  if (!plainRows(batch.rows)) return undefined;

  return {
    async run(client) {
      const values = [...eventValues(ids, events), known.version, ...deliveryColumns(batch.rows), ...deliveryJobValues(deliveryJobsOf(transitionsOf(batch.rows)))];
      const { rows } = await client.query<{ ids: string[] }>({ ...oneStatement(await jobTable(boss, DELIVERY_QUEUE)), values });
      const fresh = new Set(rows[0]!.ids);
      // A repeated key: its first event is committed (ours, or one this insert waited for).
      const duplicates = await findDuplicates(client, events, events.flatMap((_, i) => (fresh.has(ids[i]!) ? [] : [i])));
      return byRequest(requests, events.map((_, i): AcceptResult => (fresh.has(ids[i]!)
        ? { id: ids[i]!, duplicate: false, deliveries: planned[i]! }
        : { id: duplicates.get(i)!, duplicate: true })));
    },
  };
}
