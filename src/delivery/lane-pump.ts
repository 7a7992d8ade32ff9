import type { Pool, PoolClient } from 'pg';
import type { Job, PgBoss } from 'pg-boss';
import { inTransaction } from '../db/transaction.js';
import type { Logger } from '../log.js';
import { CONCURRENCY_TIERS, onClient, type DeliveryJob, type JobAck } from '../queue/boss.js';

export interface LaneOptions {
  queue: string;
  /** Deliveries this process runs at once in this lane. */
  capacity: number;
  /** Slots of the lane no single relay may take (at least 1, less than capacity unless capacity is 1). */
  reserve: number;
  /** Fallback poll when nothing wakes the pump (retries come due without any NOTIFY). */
  pollMs: number;
  /** The lane: jobs of exactly this priority. */
  priority: number;
  /** How often in-flight jobs are touched; pg-boss expires them after `heartbeatSeconds`. */
  heartbeatMs?: number;
}

export interface FetchedJob {
  job: DeliveryJob;
  jobId: string;
  /** The pg-boss job as fetched, for completing it in the transaction that records its outcome. */
  ack: JobAck;
}

export interface LaneItem extends FetchedJob {
  signal: AbortSignal;
}

/** What a lane does with the jobs it fetches. */
export interface LaneWork<C> {
  /**
   * Runs in the fetch's own transaction, so the jobs and what their handlers claim (the
   * deliveries) commit together: one WAL flush for both, and a fetched job is never active
   * without its claim.
   */
  claim(client: PoolClient, items: readonly FetchedJob[]): Promise<C>;
  /**
   * Starts every job of a claimed batch; one promise per job, in order, resolving `true` when
   * the job was completed in the transaction that recorded its outcome (nothing left for the
   * pump to acknowledge), `false` when the pump completes it.
   */
  start(items: LaneItem[], claimed: C): Promise<boolean>[];
}

/**
 * Jobs one fetch claims at most: a whole lane's free slots in one transaction (one WAL flush),
 * bounded so one claim statement stays small.
 */
const MAX_FETCH = 200;

/**
 * One fetch loop per lane: it claims as many jobs as it has free slots (pg-boss's group
 * concurrency leaves out relays already at their limit, across all workers) and runs each job
 * on its own. A slow relay therefore only ever holds its own slots, never a batch of other
 * relays' jobs, and one pump's single fetch query replaces dozens of competing pollers.
 * The fetch and the claim of its jobs share one transaction, and a job whose outcome is
 * recorded is completed in that outcome's transaction, so a delivery costs two commits (WAL
 * flushes), each shared by a whole batch; the few jobs without a recorded outcome (nothing to
 * do, released at shutdown) are acknowledged here, those of one tick in one statement.
 *
 * One relay holds at most `capacity - reserve` slots of the lane, whatever its
 * `maxConcurrency`: the reserve (HOOKYARD_LANE_RESERVE_PERCENT) goes only to relays holding
 * few slots, so a relay that hangs with `maxConcurrency: 1000` (or several of them) fills the
 * rest and waits there while every other relay still gets in. The reserve is never lent to
 * a relay that holds many, even on an idle lane: a lent slot comes back only when its request
 * ends, which for a hanging receiver is its whole timeout.
 */
export class LanePump<C> {
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Slots each relay holds in this lane, and its `maxConcurrency` (its pg-boss tier). Counted
   * here: they are jobs in flight that pg-boss's fetch must leave out, not a rate.
   */
  private readonly held = new Map<string, number>();
  private readonly tiers = new Map<string, number>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly completed: string[] = [];
  private wakeUp: (() => void) | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wakePending = false;
  /** A wake-up that came while a fetch was under way: fetch again at once instead of sleeping. */
  private woken = false;
  private completion: Promise<void> | undefined;

  constructor(
    private readonly boss: PgBoss,
    private readonly pool: Pool,
    private readonly options: LaneOptions,
    private readonly work: LaneWork<C>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
    this.heartbeat = setInterval(() => void this.touch(), this.options.heartbeatMs ?? 4000);
    this.heartbeat.unref();
  }

  /**
   * Fetch now: new work was committed, or a slot freed while work was waiting. A wake-up that
   * comes while a fetch is under way is kept for when it returns: that fetch may have read
   * the queue before the work committed, and dropping the wake-up left the work waiting for
   * the next finished job or the poll (issue 13: part of the e2e latency at 500/s).
   */
  wake(): void {
    this.woken = true;
    const resolve = this.wakeUp;
    this.wakeUp = undefined;
    if (resolve) resolve();
  }

  /**
   * A finished job frees a slot, of the lane and of its relay: fetch again, once for all the
   * jobs that finish in the same tick (outcomes are committed together, so they do). Waiting
   * for the poll instead would hold a relay at its limit idle for a whole interval.
   */
  private wakeSoon(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      this.wake();
    });
  }

  get running(): number {
    return this.inFlight.size;
  }

  /**
   * Stops claiming, lets in-flight deliveries finish until `deadlineMs`, then aborts the rest:
   * an aborted delivery is released (its job fails back to pg-boss and another worker, or this
   * one after a restart, takes it), never left DELIVERING; one whose request had already left
   * is recorded as an INTERRUPTED attempt, its next attempt due at once.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const settled = Promise.allSettled([...this.inFlight.values()]);
    const timer = setTimeout(() => {
      for (const controller of this.controllers.values()) controller.abort();
    }, deadlineMs);
    await settled;
    clearTimeout(timer);
    clearInterval(this.heartbeat);
    await this.flushCompleted();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      const { batchSize: free, ignoreGroups } = this.nextFetch();
      if (free > 0) {
        try {
          const fetched = await this.fetch(free, ignoreGroups);
          if (fetched) this.runBatch(fetched.jobs, fetched.items, fetched.claimed);
          // A full batch means more is waiting: fetch again before sleeping.
          if ((fetched?.jobs.length ?? 0) === free && !this.stopping) continue;
        } catch (error) {
          this.log.warn({ err: (error as Error).message, queue: this.options.queue }, 'could not fetch deliveries');
          // A failing database is retried at the poll, not at every wake-up.
          this.woken = false;
        }
      }
      // Stopping during a fetch must not sleep out a poll before the loop ends.
      if (this.woken || this.stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * How many jobs to claim next, and which relays to leave out. The lane's first
   * `capacity - reserve` slots go to any relay (pg-boss holds each to its maxConcurrency);
   * the reserve only to relays holding fewer than half of it, so relays that already hold
   * many (a hanging one with `maxConcurrency: 1000`, or several) can never take the last
   * slots. A reserve fetch claims no more than the fullest relay in it may still take.
   */
  private nextFetch(): { batchSize: number; ignoreGroups: string[] } {
    const { capacity, reserve } = this.options;
    const used = this.inFlight.size;
    const open = capacity - reserve - used;
    if (open > 0) return { batchSize: Math.min(open, MAX_FETCH), ignoreGroups: [] };
    const small = Math.max(1, Math.floor(reserve / 2));
    const ignoreGroups = [...this.held].filter(([, count]) => count >= small).map(([relayId]) => relayId);
    // A relay whose own limit is below `small` is held by pg-boss; only the others could overshoot.
    const fullest = Math.max(0, ...[...this.held].filter(([relayId, count]) => count < small && (this.tiers.get(relayId) ?? Infinity) > count).map(([, count]) => count));
    return { batchSize: Math.min(capacity - used, MAX_FETCH, small - fullest), ignoreGroups };
  }

  /** Fetches up to `batchSize` jobs and claims them, in one transaction; `undefined` when none were due. */
  private fetch(batchSize: number, ignoreGroups: string[]): Promise<{ jobs: Job<DeliveryJob>[]; items: FetchedJob[]; claimed: C } | undefined> {
    return inTransaction(this.pool, async (client) => {
      const jobs = await this.boss.fetch<DeliveryJob>(this.options.queue, {
        batchSize,
        minPriority: this.options.priority,
        maxPriority: this.options.priority,
        groupConcurrency: { default: 10, tiers: CONCURRENCY_TIERS },
        ...(ignoreGroups.length > 0 ? { ignoreGroups } : {}),
        // Not prepared: after five runs PostgreSQL would switch the fetch to a generic plan that
        // costs ten times its planning (measured with bench/tools/drain.ts --statements).
        db: onClient(client),
      });
      if (jobs.length === 0) return undefined;
      const items = jobs.map((job) => ({ job: job.data, jobId: job.id, ack: { id: job.id, retryCount: job.retryCount } }));
      return { jobs, items, claimed: await this.work.claim(client, items) };
    });
  }

  private runBatch(jobs: Job<DeliveryJob>[], fetched: FetchedJob[], claimed: C): void {
    const controllers = jobs.map(() => new AbortController());
    const runs = this.work.start(fetched.map((item, i) => ({ ...item, signal: controllers[i]!.signal })), claimed);
    jobs.forEach((job, i) => {
      const relayId = job.groupId ?? '';
      this.held.set(relayId, (this.held.get(relayId) ?? 0) + 1);
      if (job.groupTier) this.tiers.set(relayId, Number(job.groupTier));
      this.controllers.set(job.id, controllers[i]!);
      const done = runs[i]!
        .then(
          (settled) => (settled ? undefined : this.complete(job.id)),
          async (error: unknown) => {
            this.log.warn({ err: (error as Error).message, deliveryId: job.data.deliveryId }, 'delivery job failed; pg-boss will retry it');
            await this.boss.fail(this.options.queue, job.id, { message: (error as Error).message });
          },
        )
        .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'could not settle a delivery job'))
        .finally(() => {
          const left = (this.held.get(relayId) ?? 1) - 1;
          if (left > 0) this.held.set(relayId, left);
          else {
            this.held.delete(relayId);
            this.tiers.delete(relayId);
          }
          this.inFlight.delete(job.id);
          this.controllers.delete(job.id);
          this.wakeSoon();
        });
      this.inFlight.set(job.id, done);
    });
  }

  /** Acknowledges a job its handler did not complete, with the others of its tick, resolving once pg-boss has them. */
  private complete(id: string): Promise<void> {
    this.completed.push(id);
    this.completion ??= new Promise((resolve) => setImmediate(() => {
      this.completion = undefined;
      void this.flushCompleted().then(resolve);
    }));
    return this.completion;
  }

  private async flushCompleted(): Promise<void> {
    const ids = this.completed.splice(0);
    if (ids.length === 0) return;
    await this.boss.complete(this.options.queue, ids).catch((error: unknown) => {
      // Unacknowledged jobs run again after their heartbeat lapses; the attempt guard makes that a no-op.
      this.log.warn({ err: (error as Error).message, count: ids.length }, 'could not acknowledge delivery jobs');
    });
  }

  private async touch(): Promise<void> {
    const ids = [...this.inFlight.keys()];
    if (ids.length === 0) return;
    await this.boss.touch(this.options.queue, ids).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'could not heartbeat delivery jobs'));
  }
}
