import { DELIVERY_STATUSES, type DeliveryStatus } from '../db/entities/delivery.js';

/** Who moves a delivery from one status to another. */
export type Mover =
  /** A worker takes the delivery for an attempt (delivery/claim.ts). */
  | 'claim'
  /** A worker records how an attempt ended (delivery/transitions.ts). */
  | 'outcome'
  /** A worker stopping before the request left gives the attempt back (delivery/dispatch.ts). */
  | 'release'
  /** `retryDelivery`, `retryDeliveries`. */
  | 'operator-retry'
  /** `cancelDelivery`. */
  | 'operator-cancel'
  /** `disableRelay`, or the relay's health record disabling it. */
  | 'relay-disable'
  /** `enableRelay`. */
  | 'relay-enable';

export interface Transition {
  from: DeliveryStatus;
  to: DeliveryStatus;
  by: Mover;
}

const move = (by: Mover, from: DeliveryStatus[], to: DeliveryStatus[]): Transition[] => from.flatMap((f) => to.map((t) => ({ from: f, to: t, by })));

/**
 * Every way a delivery's status may change, and who may make it. A new delivery is PENDING,
 * or HELD when its relay is disabled (`newDeliveryStatus`). The SQL of the lifecycle takes
 * its status lists from here (`sqlList`), so a rule changes in one place.
 */
export const TRANSITIONS: readonly Transition[] = [
  // DELIVERING again: the claim of a job whose earlier claim was cut short by a crash.
  ...move('claim', ['PENDING', 'RETRYING', 'DELIVERING'], ['DELIVERING', 'HELD']),
  // HELD: the receiver answered 410 Gone. RETRYING also after an attempt cut short at shutdown.
  ...move('outcome', ['DELIVERING'], ['SUCCEEDED', 'RETRYING', 'DEAD', 'HELD']),
  ...move('release', ['DELIVERING'], ['PENDING', 'RETRYING']),
  ...move('operator-retry', ['DEAD', 'RETRYING'], ['PENDING']),
  // DELIVERING is not cancellable: its attempt is already on the wire. DEAD is, so an operator
  // can give up on it for good (and release the key it holds under orderingOnDead HOLD).
  ...move('operator-cancel', ['PENDING', 'RETRYING', 'HELD', 'DEAD'], ['CANCELLED']),
  ...move('relay-disable', ['PENDING', 'RETRYING'], ['HELD']),
  ...move('relay-enable', ['HELD'], ['PENDING', 'RETRYING']),
];

/** Whether `by` may move a delivery from `from` to `to`. */
export function mayMove(from: DeliveryStatus, to: DeliveryStatus, by: Mover): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to && t.by === by);
}

/** The statuses `by` may move a delivery out of. */
export function movableBy(by: Mover): readonly DeliveryStatus[] {
  return [...new Set(TRANSITIONS.filter((t) => t.by === by).map((t) => t.from))];
}

/** A worker may claim these (DELIVERING: only the job that held the claim, see claim.ts). */
export const CLAIMABLE = movableBy('claim');
/** A job may be queued for these: the claimable statuses a delivery waits in. */
export const QUEUEABLE: readonly DeliveryStatus[] = CLAIMABLE.filter((status) => status !== 'DELIVERING');
/** `retryDelivery` and `retryDeliveries` take these. */
export const RETRYABLE = movableBy('operator-retry');
/** `cancelDelivery` takes these. */
export const CANCELLABLE = movableBy('operator-cancel');
/** Disabling a relay holds its deliveries in these. */
export const HOLDABLE = movableBy('relay-disable');

/** The movers that only an operator's request sets off. */
const OPERATOR_ONLY: readonly Mover[] = ['operator-retry', 'operator-cancel'];

/**
 * Finished: nothing moves it again unless an operator retries it (SUCCEEDED, DEAD,
 * CANCELLED). Only finished deliveries are pruned by retention.
 */
export const FINISHED: readonly DeliveryStatus[] = DELIVERY_STATUSES.filter(
  (status) => !TRANSITIONS.some((t) => t.from === status && !OPERATOR_ONLY.includes(t.by)),
);

/** A new delivery: PENDING, or HELD while its relay is disabled (enabling the relay queues it). */
export function newDeliveryStatus(relayEnabled: boolean): DeliveryStatus {
  return relayEnabled ? 'PENDING' : 'HELD';
}

/** A delivery waiting for an attempt: PENDING if it was never tried, else RETRYING. */
export function waitingStatus(attemptCount: number): DeliveryStatus {
  return attemptCount === 0 ? 'PENDING' : 'RETRYING';
}

/** `waitingStatus` in SQL, on a delivery row's `attempt_count`. */
export const WAITING_STATUS_SQL = `case when attempt_count = 0 then ${sqlLiteral(waitingStatus(0))} else ${sqlLiteral(waitingStatus(1))} end`;

function sqlLiteral(status: DeliveryStatus): string {
  return `'${status}'`;
}

/**
 * A status set as an SQL list, `('DEAD', 'RETRYING')`, for `status in …`. Literals, not a
 * parameter: the planner matches them against partial indexes (`delivery_unsettled_status_created_at_id_index`).
 */
export function sqlList(statuses: readonly DeliveryStatus[]): string {
  return `(${statuses.map(sqlLiteral).join(', ')})`;
}
