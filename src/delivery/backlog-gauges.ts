import type { Logger } from '../log.js';
import {
  backlogAge, backlogReadFailures, deliveriesByStatus, queueDepth, queueOldestAge, relaysDisabled, retriesScheduled,
} from '../metrics.js';
import { capRelays, type Backlog } from './backlog.js';

export interface BacklogGaugeOptions {
  /** Reads the backlog (backlog.ts `readBacklog`, bound to a pool and pg-boss). */
  read(): Promise<Backlog>;
  /** HOOKYARD_METRICS_TOP_RELAYS. */
  topRelays: number;
  /** HOOKYARD_METRICS_REFRESH_SECONDS: the figures are read at most this often. */
  refreshMs: number;
  log: Logger;
  now?: () => number;
}

/**
 * The database figures of `/metrics`, read at scrape time but at most once per `refreshMs`,
 * and by one read at a time: any number of scrapes, however close together, make at most one
 * read per interval, and scrapes that arrive during a read wait for that read. A failed read
 * keeps the previous figures (their age says so) and is not retried before the interval ends.
 */
export class BacklogGauges {
  private readAt = Number.NEGATIVE_INFINITY;
  private succeededAt: number | undefined;
  private reading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: BacklogGaugeOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Brings the gauges up to date unless they were read within the interval. */
  async update(): Promise<void> {
    if (!this.reading && this.now() - this.readAt >= this.options.refreshMs) {
      this.readAt = this.now();
      this.reading = this.refresh().finally(() => {
        this.reading = undefined;
      });
    }
    await this.reading;
    if (this.succeededAt !== undefined) backlogAge.set((this.now() - this.succeededAt) / 1000);
  }

  private async refresh(): Promise<void> {
    let backlog: Backlog;
    try {
      backlog = await this.options.read();
    } catch (error) {
      backlogReadFailures.inc();
      this.options.log.warn({ err: error }, 'could not read the delivery backlog for /metrics');
      return;
    }
    this.succeededAt = this.now();
    // Reset first: a relay that left the busiest N, or a status now empty, must not linger.
    deliveriesByStatus.reset();
    for (const { relay, status, count } of capRelays(backlog.deliveries, this.options.topRelays)) deliveriesByStatus.set({ relay, status }, count);
    for (const lane of backlog.lanes) {
      queueDepth.set({ lane: lane.lane }, lane.depth);
      queueOldestAge.set({ lane: lane.lane }, lane.oldestAgeSeconds);
    }
    retriesScheduled.set(backlog.retriesScheduled);
    relaysDisabled.set(backlog.relaysDisabled);
  }
}
