import type { DeliveryStatus } from './entities/delivery.js';

/** A delivery row as raw SQL returns it (MikroORM's pool parses timestamptz to text). */
export interface DeliveryRow {
  id: string;
  event_id: string;
  relay_id: string;
  subscription_id: string | null;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  created_at: string;
  updated_at: string;
  /** Of a relay with `orderingKeyFrom`: the key, or why this one is unordered. */
  ordering_key?: string | null;
  unordered_reason?: string | null;
  /** The batch it was last sent in (a batching relay). */
  batch_id?: string | null;
}
