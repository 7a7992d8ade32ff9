import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../../db/transaction.js';
import type { PgBoss } from 'pg-boss';
import type { DeliveryStatus } from '../../db/entities/delivery.js';
import { queueDeliveries, type DeliveryTransition } from '../enqueue.js';
import { QUEUEABLE, sqlList } from '../status-machine.js';

/**
 * Ordered delivery per key: each key of a relay is a line (`ordering_line`), its deliveries in
 * the order they entered it (`ordering_position`), and only the line's head has a pg-boss job.
 * The head stays the head while it is PENDING, DELIVERING, RETRYING or HELD (and DEAD when the
 * relay's `orderingOnDead` is HOLD); once it leaves (SUCCEEDED, CANCELLED, DEAD), `settleLines`
 * makes the next waiting delivery the head and queues its job, in the transaction that saw the
 * head leave. So one delivery of a key is ever in flight, across every worker, and the next
 * goes as soon as the head is done.
 *
 * Every change to a line locks its row first, and reads the deliveries only in a later
 * statement: under READ COMMITTED that statement's snapshot then holds every delivery that
 * entered the line before the lock was granted. Read in the locking statement, a delivery
 * committed meanwhile would be missed, and left waiting behind a head that is gone. Lines are
 * always locked in (relay, key) order, and after any delivery row a transaction locks, so two
 * writers never wait on each other in a circle.
 */

/** A delivery entering a line, at its back. */
export interface LineEntry {
  deliveryId: string;
  relayId: string;
  key: string;
}

/** A delivery's place in its line; `head` when it may go now (its line was empty). */
export interface LinePlace {
  position: string;
  head: boolean;
}

export interface LineRef {
  relayId: string;
  key: string;
}

/** Statuses a delivery waits in while in its line (the relay disabled: HELD). */
const WAITING: readonly DeliveryStatus[] = ['PENDING', 'RETRYING', 'HELD'];

function lineId(line: LineRef): string {
  return `${line.relayId}\u0000${line.key}`;
}

/** Distinct lines in lock order. */
function inLockOrder(lines: readonly LineRef[]): LineRef[] {
  const byId = new Map(lines.map((l) => [lineId(l), l]));
  return [...byId.values()].sort((a, b) => (a.relayId < b.relayId ? -1 : a.relayId > b.relayId ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * One row per line, inserted or locked and moved on by its entrants' count: the insert's
 * ON CONFLICT DO UPDATE locks an existing row and reads its latest version, whatever the
 * statement's snapshot. A line without a head takes its first entrant as head.
 */
const ENTER = `
  insert into ordering_line as l (relay_id, key, last_position, head_id, head_position)
  select x.relay_id, x.key, x.n, x.first_id, 1
  from unnest($1::uuid[], $2::text[], $3::int8[], $4::uuid[]) with ordinality as x(relay_id, key, n, first_id, i)
  order by x.i
  on conflict (relay_id, key) do update set
    last_position = l.last_position + excluded.last_position,
    head_id = coalesce(l.head_id, excluded.head_id),
    head_position = case when l.head_id is null then l.last_position + 1 else l.head_position end
  returning l.relay_id, l.key, l.last_position::text as last, l.head_id`;

/**
 * Puts `entries` at the back of their lines, in the order given (acceptance order), on the
 * caller's transaction, and returns each one's place. The caller writes the positions on the
 * deliveries and queues a job only for heads.
 */
export async function enterLines(client: PoolClient, entries: readonly LineEntry[]): Promise<Map<string, LinePlace>> {
  const places = new Map<string, LinePlace>();
  if (entries.length === 0) return places;
  const groups = new Map<string, LineEntry[]>();
  for (const entry of entries) {
    const id = lineId(entry);
    const group = groups.get(id);
    if (group) group.push(entry);
    else groups.set(id, [entry]);
  }
  const lines = inLockOrder(entries).map((line) => ({ line, members: groups.get(lineId(line))! }));
  const { rows } = await client.query<{ relay_id: string; key: string; last: string; head_id: string | null }>({
    name: 'hookyard-enter-lines',
    text: ENTER,
    values: [lines.map((l) => l.line.relayId), lines.map((l) => l.line.key), lines.map((l) => l.members.length), lines.map((l) => l.members[0]!.deliveryId)],
  });
  for (const row of rows) {
    const members = groups.get(lineId({ relayId: row.relay_id, key: row.key }))!;
    const base = BigInt(row.last) - BigInt(members.length);
    members.forEach((m, i) => places.set(m.deliveryId, { position: String(base + BigInt(i + 1)), head: row.head_id === m.deliveryId }));
  }
  return places;
}

/** A line's head as `settleLines` left it: a delivery to queue, when the relay is enabled and it waits. */
export interface LineHead {
  id: string;
  relay_id: string;
  status: DeliveryStatus;
  attempt_count: number;
  enabled: boolean;
  max_concurrency: number;
}

const LOCK = `
  select 1 from ordering_line l
  join unnest($1::uuid[], $2::text[]) with ordinality as w(relay_id, key, i) on l.relay_id = w.relay_id and l.key = w.key
  order by w.i for update of l`;

/**
 * The lines' heads moved on where they left (`stale`): to the next waiting delivery by
 * position, or none. With `$3`, the heads that stayed are returned too (to queue them again
 * after a relay was enabled).
 */
const SETTLE = `
  with line as (
    select l.relay_id, l.key, l.head_id, l.head_position, r.enabled, r.max_concurrency, h.status as head_status, h.attempt_count as head_attempts,
           (l.head_id is null or h.id is null or h.ordering_key is distinct from l.key or h.status in ('SUCCEEDED', 'CANCELLED')
             or (h.status = 'DEAD' and r.ordering_on_dead <> 'HOLD')) as stale
    from unnest($1::uuid[], $2::text[]) as w(relay_id, key)
    join ordering_line l on l.relay_id = w.relay_id and l.key = w.key
    join relay r on r.id = l.relay_id
    left join delivery h on h.id = l.head_id
  ),
  next as (
    select line.relay_id, line.key, n.id, n.ordering_position, n.status, n.attempt_count
    from line left join lateral (
      select d.id, d.ordering_position, d.status, d.attempt_count from delivery d
      where d.relay_id = line.relay_id and d.ordering_key = line.key and d.ordering_position > line.head_position
        and d.status in ${sqlList(WAITING)}
      order by d.ordering_position limit 1) n on true
    where line.stale
  ),
  moved as (
    update ordering_line l set head_id = next.id, head_position = coalesce(next.ordering_position, l.head_position)
    from next where l.relay_id = next.relay_id and l.key = next.key
  )
  select next.id, next.relay_id, next.status, next.attempt_count, line.enabled, line.max_concurrency
  from next join line on line.relay_id = next.relay_id and line.key = next.key where next.id is not null
  union all
  select line.head_id, line.relay_id, line.head_status, line.head_attempts, line.enabled, line.max_concurrency
  from line where $3::boolean and not line.stale`;

/**
 * Moves on the head of each line in `lines` that has left (finished, cancelled, DEAD under
 * CONTINUE, deleted), on the caller's transaction, and queues the new heads that may go now.
 * Idempotent: a line whose head is still in it is left alone, so any writer that may have
 * moved a head out calls it for that head's line. With `requeueHeads`, heads that stayed and
 * wait are queued again too (enabling a relay: its heads were HELD without a job).
 */
export async function settleLines(client: PoolClient, boss: PgBoss, lines: readonly LineRef[], options: { requeueHeads?: boolean } = {}): Promise<LineHead[]> {
  if (lines.length === 0) return [];
  const ordered = inLockOrder(lines);
  const values = [ordered.map((l) => l.relayId), ordered.map((l) => l.key)];
  await client.query({ name: 'hookyard-lock-lines', text: LOCK, values });
  const { rows } = await client.query<LineHead>({ name: 'hookyard-settle-lines', text: SETTLE, values: [...values, options.requeueHeads ?? false] });
  await queueDeliveries(client, boss, rows.flatMap((head) => headJob(head)));
  return rows;
}

/** The job of a line's head, when its relay is enabled and it waits for an attempt. */
function headJob(head: LineHead): DeliveryTransition[] {
  if (!head.enabled || !QUEUEABLE.includes(head.status)) return [];
  return [queued({ deliveryId: head.id, relayId: head.relay_id, status: head.status, attemptCount: head.attempt_count, maxConcurrency: head.max_concurrency })];
}

/** A delivery's attempt queued now (the first-try lane). */
function queued(d: Omit<Requeued, 'key'>): DeliveryTransition {
  return { id: d.deliveryId, status: d.status, attemptCount: d.attemptCount, job: { relayId: d.relayId, maxConcurrency: d.maxConcurrency } };
}

/** A delivery an operator queued again (`retryDelivery`), of an ordered relay. */
export interface Requeued extends LineEntry {
  status: DeliveryStatus;
  attemptCount: number;
  maxConcurrency: number;
}

const HEADS = `
  select l.relay_id, l.key, l.head_id from ordering_line l
  join unnest($1::uuid[], $2::text[]) with ordinality as w(relay_id, key, i) on l.relay_id = w.relay_id and l.key = w.key
  order by w.i for update of l`;

/**
 * Deliveries an operator queued again, each where its key says: the line's head (a RETRYING
 * head, a DEAD one holding its key under HOLD) goes now; any other (a DEAD one its line went
 * on without) joins the back of its line and goes when it comes to the head, at once if the
 * line is empty. Their rows must already be in a waiting status, locked by the caller.
 */
export async function requeueInLines(client: PoolClient, boss: PgBoss, requeued: readonly Requeued[]): Promise<void> {
  if (requeued.length === 0) return;
  const ordered = inLockOrder(requeued);
  const { rows } = await client.query<{ relay_id: string; key: string; head_id: string | null }>({
    name: 'hookyard-line-heads', text: HEADS, values: [ordered.map((l) => l.relayId), ordered.map((l) => l.key)],
  });
  const heads = new Set(rows.flatMap((r) => (r.head_id ? [r.head_id] : [])));
  const back = requeued.filter((d) => !heads.has(d.deliveryId));
  const places = await enterLines(client, back);
  if (back.length > 0) {
    await client.query('update delivery d set ordering_position = p.position from unnest($1::uuid[], $2::int8[]) as p(id, position) where d.id = p.id', [
      back.map((d) => d.deliveryId), back.map((d) => places.get(d.deliveryId)!.position),
    ]);
  }
  // Heads go now: those that were (a RETRYING head, a DEAD one holding its key) and those that
  // entered an empty line; the rest wait behind theirs, and a head that left is settled as ever.
  await queueDeliveries(client, boss, requeued.filter((d) => heads.has(d.deliveryId) || places.get(d.deliveryId)?.head).map(queued));
  await settleLines(client, boss, back);
}

const DEAD_HEADS = `
  select l.key from ordering_line l join delivery h on h.id = l.head_id
  where l.relay_id = $1 and h.status = 'DEAD' and l.key > $2 order by l.key limit 500`;

/**
 * Moves on every key of a relay held by a DEAD head: its `orderingOnDead` went from HOLD to
 * CONTINUE. In slices of 500 lines, each settled on the caller's transaction.
 */
export async function releaseDeadHeads(client: PoolClient, boss: PgBoss, relayId: string): Promise<void> {
  let after = '';
  for (;;) {
    const { rows } = await client.query<{ key: string }>(DEAD_HEADS, [relayId, after]);
    if (rows.length === 0) return;
    await settleLines(client, boss, rows.map((r) => ({ relayId, key: r.key })));
    after = rows.at(-1)!.key;
  }
}

const STALE_LINES = `
  select l.relay_id, l.key from ordering_line l
  join relay r on r.id = l.relay_id
  left join delivery h on h.id = l.head_id
  where l.head_id is not null
    and (h.id is null or h.status in ('SUCCEEDED', 'CANCELLED') or (h.status = 'DEAD' and r.ordering_on_dead <> 'HOLD'))
  limit 500`;

/** Lines without a head whose deliveries still wait (only a bug leaves one): settled from their start. */
const STRANDED_LINES = `
  update ordering_line l set head_position = 0
  where l.head_id is null and exists (
    select 1 from delivery d where d.relay_id = l.relay_id and d.ordering_key = l.key and d.status in ${sqlList(WAITING)})
  returning l.relay_id, l.key`;

const EMPTY_LINES = `
  delete from ordering_line where ctid in (
    select l.ctid from ordering_line l
    where l.head_id is null and not exists (
      select 1 from delivery d where d.relay_id = l.relay_id and d.ordering_key = l.key and d.status in ${sqlList(WAITING)})
    limit 1000 for update skip locked)`;

/**
 * The backstop of `settleLines`, run with retention: moves on any line whose head left without
 * its line being settled (a writer this module does not know of, a row deleted by hand), gives
 * a head to any line left without one while its deliveries wait, and deletes lines left empty (one per key ever seen would otherwise pile up). A line deleted
 * while a delivery enters it is simply inserted again by `enterLines`.
 */
export async function sweepLines(pool: Pool, boss: PgBoss): Promise<{ linesSettled: number; linesDeleted: number }> {
  let settled = 0;
  for (let round = 0; round < 20; round++) {
    const { rows } = await pool.query<{ relay_id: string; key: string }>(STALE_LINES);
    if (rows.length === 0) break;
    await inTransaction(pool, (client) => settleLines(client, boss, rows.map((r) => ({ relayId: r.relay_id, key: r.key }))));
    settled += rows.length;
  }
  settled += await inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ relay_id: string; key: string }>(STRANDED_LINES);
    await settleLines(client, boss, rows.map((r) => ({ relayId: r.relay_id, key: r.key })));
    return rows.length;
  });
  let deleted = 0;
  for (;;) {
    const { rowCount } = await pool.query(EMPTY_LINES);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < 1000) break;
  }
  return { linesSettled: settled, linesDeleted: deleted };
}
