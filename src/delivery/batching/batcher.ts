import { newId } from '../../ids.js';
import { batchItem } from '../build-request.js';
import type { Claimed } from '../claim.js';
import type { JobAck } from '../../queue/boss.js';
import type { BatchEntry } from './send-batch.js';

interface OpenBatch {
  entries: BatchEntry[];
  /** The array's bytes so far: the brackets and the items with their commas. */
  bytes: number;
  timer: NodeJS.Timeout;
  sent: Promise<void>;
  send: () => void;
}

/**
 * A worker's open batches, one per batching relay and attempt number: deliveries claimed for
 * a relay with `batch` join its open batch, which is sent when it holds `maxEvents` events, when
 * the next one would take its body past `maxBytes` (that one starts the next batch; one larger
 * than `maxBytes` alone goes alone), or `maxWaitMs` after its first event. Each delivery's
 * promise settles when its batch's outcome is recorded. Its jobs stay active meanwhile, so a
 * relay's batch holds at most what pg-boss lets it have in flight (`maxConcurrency`, across
 * workers) and what the worker's lane gives one relay. A delivery whose job is aborted (shutdown)
 * sends its batch at once, where the abort releases it.
 */
export class Batcher {
  private readonly open = new Map<string, OpenBatch>();

  constructor(private readonly sendBatch: (entries: BatchEntry[], batchId: string) => Promise<void>) {}

  add(row: Claimed, ack: JobAck | undefined, signal: AbortSignal): Promise<void> {
    const key = `${row.relay_id}:${row.attempt}`;
    const settings = { maxEvents: row.batch_max_events!, maxBytes: row.batch_max_bytes!, maxWaitMs: row.batch_max_wait_ms ?? 0 };
    const item = batchItem(row);
    let batch = this.open.get(key);
    if (batch && batch.bytes + 1 + Buffer.byteLength(item) > settings.maxBytes) {
      batch.send();
      batch = undefined;
    }
    if (!batch) batch = this.start(key, settings.maxWaitMs);
    batch.bytes += (batch.entries.length > 0 ? 1 : 0) + Buffer.byteLength(item);
    batch.entries.push({ row, item, ack, signal });
    const sent = batch.sent;
    const current = batch;
    if (signal.aborted) current.send();
    else signal.addEventListener('abort', () => current.send(), { once: true });
    if (batch.entries.length >= settings.maxEvents || batch.bytes >= settings.maxBytes) batch.send();
    return sent;
  }

  private start(key: string, maxWaitMs: number): OpenBatch {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const sent = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let done = false;
    const batch: OpenBatch = {
      entries: [],
      bytes: 2,
      sent,
      timer: setTimeout(() => batch.send(), maxWaitMs),
      send: () => {
        if (done) return;
        done = true;
        clearTimeout(batch.timer);
        if (this.open.get(key) === batch) this.open.delete(key);
        this.sendBatch(batch.entries, newId()).then(resolve, reject);
      },
    };
    this.open.set(key, batch);
    return batch;
  }
}
