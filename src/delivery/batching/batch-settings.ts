/** A batching relay's settings (relay.batch_max_events, _bytes, _wait_ms). */
export interface BatchSettings {
  maxEvents: number;
  maxBytes: number;
  maxWaitMs: number;
}

export const BATCH_DEFAULTS: BatchSettings = { maxEvents: 100, maxBytes: 1024 * 1024, maxWaitMs: 1000 };

/** What a relay may set: a batch is held in a worker's memory while it fills, so each bound is bounded. */
export const BATCH_LIMITS: Record<keyof BatchSettings, { min: number; max: number }> = {
  maxEvents: { min: 1, max: 1000 },
  maxBytes: { min: 1024, max: 5 * 1024 * 1024 },
  maxWaitMs: { min: 0, max: 30_000 },
};
