import type { RelayKind } from '../../db/entities/relay.js';
import type { ClaimedRow } from '../build-request.js';
import type { SendOutcome } from '../http-sender.js';

/** One attempt as the dispatcher hands it to a destination, and what the destination reports back. */
export interface AttemptContext {
  deliveryId: string;
  /** Aborted at shutdown: a destination stops, and reports TIMEOUT. */
  signal: AbortSignal;
  /** With tracing on: this attempt's span, for destinations that can carry it. */
  traceparent?: string;
  /** Called once what is sent may reach the receiver; an abort before then sent nothing (the job is released). */
  onSending: () => void;
  /** What was sent, as the attempt log keeps it (secrets redacted): set by the destination once built. */
  logged: Record<string, string>;
}

/**
 * Where a relay's deliveries go: one module per relay `kind` (http.ts, email.ts), behind this
 * one method, so that a new kind (a queue) is a module and a registry entry. Everything else
 * is the engine's and shared by every kind: claims, limits, retries and their schedule,
 * HELD while disabled, ordering, attempts, health and the live feeds.
 *
 * A receiver's failure is an outcome, never an exception: the error classes of
 * AttemptErrorClass, `status` the receiver's answer code (HTTP status, SMTP reply code) and
 * `bodyExcerpt` its text, and `permanent` when retrying cannot help. A throw means nothing
 * was sent (a secret that cannot be opened): the dispatcher records it as LOCAL.
 */
export interface Destination {
  send(row: ClaimedRow, attempt: AttemptContext): Promise<SendOutcome>;
  /** Releases connections at shutdown. */
  close(): Promise<void>;
}

/**
 * A destination that can also send several deliveries as one message (delivery/batching/):
 * HTTP only, whose batch is one signed JSON array. `items` are the serialised deliveries
 * (build-request.ts `batchItem`), oldest first; `relay` is the oldest one's row.
 */
export interface BatchingDestination extends Destination {
  sendBatch(relay: ClaimedRow, items: readonly string[], webhookId: string, attempt: AttemptContext): Promise<SendOutcome>;
}

export type Destinations = Readonly<Record<RelayKind, Destination> & { HTTP: BatchingDestination }>;

/** The `logged` an attempt starts with: nothing was built yet (shared, never written to). */
export const NOTHING_LOGGED: Record<string, string> = Object.freeze({}) as Record<string, string>;
