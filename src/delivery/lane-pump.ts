import type { Pool, PoolClient } from 'pg';
import type { PgBoss } from 'pg-boss';
import { HeldConnection } from '../db/held-connection.js';
import { inPipelinedTransaction, inTransaction } from '../db/transaction.js';
import type { Logger } from '../log.js';
import type { DeliveryJob, JobAck } from '../queue/boss.js';
import { completeDeliveryJobsSql, completeDeliveryJobsValues } from '../queue/complete-jobs.js';
import type { FetchRequest } from '../queue/fetch-jobs.js';
import { queueTable } from '../queue/queue-table.js';

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
  /** Its relay (pg-boss group), and that relay's `maxConcurrency` (its tier). */
  relayId: string;
  tier?: number;
}

export interface LaneItem extends FetchedJob {
  signal: AbortSignal;
}

/** A finished job's outcome, to record; `ack` is the job it completes in the recording transaction. */
export interface LaneOutcome {
  ack?: JobAck;
}

/** What a lane does with the jobs it fetches. */
export interface LaneWork<C, O extends LaneOutcome = LaneOutcome> {
  /**
   * Fetches jobs and claims what they work on (the deliveries) on the turn's transaction. The
   * jobs and their claims commit together: one WAL flush for both, and a fetched job is never
   * active without its claim. Resolves once the claim is sent, its answer still to come
   * (`claimed`), so the turn's commit goes right behind it in the same round trip.
   */
  fetch(client: PoolClient, request: FetchRequest): Promise<{ items: FetchedJob[]; claimed: Promise<C> }>;
  /**
   * Starts every job of a claimed batch; one promise per job, in order, resolving `true` when
   * the job was completed in the transaction that recorded its outcome (handed to `record`,
   * which resolves once that transaction commits), `false` when the pump completes it.
   */
  start(items: LaneItem[], claimed: C, record: (outcome: O) => Promise<void>): Promise<boolean>[];
  /**
   * Records finished jobs' outcomes on the pump's transaction, completing their jobs (`ack`)
   * in it: the same transaction then fetches and claims the jobs for the slots they free. Its
   * first statement is sent before it returns (the turn's connection may be pipelined, and the
   * fetch sent next must count the slots it frees).
   */
  record(client: PoolClient, outcomes: O[]): Promise<void>;
}

interface PendingOutcome<O> {
  outcome: O;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Jobs one fetch claims at most: a whole lane's free slots in one transaction (one WAL flush),
 * bounded so one claim statement stays small.
 */
const MAX_FETCH = 200;

/** Outcomes one transaction records at most. */
const MAX_RECORD = 100;

/**
 * One loop per lane, and each turn of it one transaction: it records the outcomes of the jobs
 * that finished since the last turn (completing their pg-boss jobs), then fetches as many jobs
 * as the lane has free slots, those just freed included (pg-boss's group concurrency leaves
 * out relays already at their limit, across all workers; the jobs completed a statement
 * earlier no longer count), and claims them. A delivery therefore costs one commit (one WAL
 * flush, shared by a whole batch) and a freed slot starts its next job with no wake-up and no
 * second transaction in between; a slow relay only ever holds its own slots, never a batch of
 * other relays' jobs. A lane has one transaction under way at a time, so its slot counts are
 * exact: no two fetches of a lane both take the same free slot. The few jobs without a
 * recorded outcome (nothing to do, released at shutdown) are acknowledged on their own, those
 * of one tick in one statement.
 *
 * One relay holds at most `capacity - reserve` slots of the lane, whatever its
 * `maxConcurrency`: the reserve (HOOKYARD_LANE_RESERVE_PERCENT) goes only to relays holding
 * few slots, so a relay that hangs with `maxConcurrency: 1000` (or several of them) fills the
 * rest and waits there while every other relay still gets in. The reserve is never lent to
 * a relay that holds many, even on an idle lane: a lent slot comes back only when its request
 * ends, which for a hanging receiver is its whole timeout.
 */
export class LanePump<C, O extends LaneOutcome = LaneOutcome> {
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Slots each relay holds in this lane, and its `maxConcurrency` (its pg-boss tier). Counted
   * here: they are jobs in flight that pg-boss's fetch must leave out, not a rate.
   */
  private readonly held = new Map<string, number>();
  private readonly tiers = new Map<string, number>();
  /** The relay of each job in flight, to free its slot when its outcome is recorded. */
  private readonly relayOf = new Map<string, string>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly completed: JobAck[] = [];
  private readonly outcomes: PendingOutcome<O>[] = [];
  private wakeUp: (() => void) | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wakePending = false;
  /** A wake-up that came while a turn was under way: take another at once instead of sleeping. */
  private woken = false;
  /** The turn under way has sent its fetch: new work announced now is for the next fetch. */
  private fetchSent = false;
  /**
   * New work was announced after the turn under way had fetched: the next turn fetches it first,
   * in a statement of its own, before it records any outcome (see `run`).
   */
  private fetchFirst = false;
  /** After a failed fetch, when to fetch again: at the poll, not with every outcome or wake-up. */
  private fetchAgainAt = 0;
  private completion: Promise<void> | undefined;
  private readonly record = (outcome: O): Promise<void> =>
    new Promise((resolve, reject) => {
      this.outcomes.push({ outcome, resolve, reject });
      this.nudge();
    });

  /** The lane's connection, kept between turns. */
  private readonly connection: HeldConnection;

  constructor(
    private readonly boss: PgBoss,
    pool: Pool,
    private readonly options: LaneOptions,
    private readonly work: LaneWork<C, O>,
    private readonly log: Logger,
  ) {
    this.connection = new HeldConnection(pool);
  }

  start(): void {
    this.loop = this.run();
    this.heartbeat = setInterval(() => void this.touch(), this.options.heartbeatMs ?? 4000);
    this.heartbeat.unref();
  }

  /**
   * Take a turn now: new work was committed, an outcome is waiting, or a slot freed. A wake-up
   * that comes while a turn is under way is kept for when it returns: its fetch may have read
   * the queue before the work committed, and dropping the wake-up left the work waiting for
   * the next finished job or the poll (issue 13: part of the e2e latency at 500/s).
   */
  wake(): void {
    if (this.fetchSent) this.fetchFirst = true;
    this.nudge();
  }

  /** Take a turn now, for an outcome to record or a slot that freed. */
  private nudge(): void {
    this.woken = true;
    const resolve = this.wakeUp;
    this.wakeUp = undefined;
    if (resolve) resolve();
  }

  /**
   * A job that finished without an outcome to record frees a slot once the pump has
   * acknowledged it: fetch again, once for all the jobs that finish in the same tick.
   */
  private wakeSoon(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      this.nudge();
    });
  }

  get running(): number {
    return this.inFlight.size;
  }

  /**
   * Stops claiming, lets in-flight deliveries finish (their outcomes still recorded by the
   * loop) until `deadlineMs`, then aborts the rest: an aborted delivery is released (its job
   * fails back to pg-boss and another worker, or this one after a restart, takes it), never
   * left DELIVERING; one whose request had already left is recorded as an INTERRUPTED attempt,
   * its next attempt due at once.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    const timer = setTimeout(() => {
      for (const controller of this.controllers.values()) controller.abort();
    }, deadlineMs);
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
    clearTimeout(timer);
    clearInterval(this.heartbeat);
    await this.flushCompleted();
    this.connection.release();
  }

  private async run(): Promise<void> {
    // Stopping, the loop still records what is in flight; it ends once nothing is.
    while (!this.stopping || this.inFlight.size > 0 || this.outcomes.length > 0) {
      this.woken = false;
      if (this.fetchFirst && !this.stopping && this.outcomes.length > 0) {
        // New work waits for one statement, not for the outcomes' statements and commit before it.
        this.fetchFirst = false;
        const { batchSize, ignoreGroups } = this.nextFetch([]);
        if (batchSize > 0) await this.turn([], batchSize, ignoreGroups);
      }
      this.fetchFirst = false;
      const recording = this.outcomes.splice(0, MAX_RECORD);
      const { batchSize, ignoreGroups } = this.stopping ? { batchSize: 0, ignoreGroups: [] } : this.nextFetch(recording);
      let full = false;
      if (recording.length > 0 || batchSize > 0) {
        const fetched = await this.turn(recording, batchSize, ignoreGroups);
        full = batchSize > 0 && fetched === batchSize;
      }
      // A full batch means more is waiting, an outcome or a wake-up came meanwhile: go again before sleeping.
      if (full || this.woken || this.outcomes.length > 0) continue;
      if (this.stopping && this.inFlight.size === 0) break;
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
   * One transaction: the outcomes recorded (their jobs completed), then the fetch and claim of
   * up to `batchSize` jobs. Returns how many jobs it fetched. When it fails, the outcomes are
   * recorded one by one in transactions of their own (one bad outcome never fails its
   * neighbours) and the fetch waits for the poll.
   */
  private async turn(recording: PendingOutcome<O>[], batchSize: number, ignoreGroups: string[]): Promise<number> {
    const fetch = Date.now() < this.fetchAgainAt ? 0 : batchSize;
    if (recording.length === 0 && fetch === 0) return 0;
    try {
      // Outcomes and fetch sent at once (a pipelined connection, db/pools.ts createLanePool):
      // the fetch runs after the outcomes' statement, so it counts the slots their jobs free.
      const [, fetched] = await inPipelinedTransaction<[void, Awaited<ReturnType<typeof this.fetch>>]>(this.connection, (client) => [
        recording.length > 0 ? this.work.record(client, recording.map((p) => p.outcome)) : Promise.resolve(),
        fetch > 0 ? this.fetch(client, fetch, ignoreGroups) : Promise.resolve(undefined),
      ]);
      for (const p of recording) {
        // Its job completed with this commit: the slot is free now, as the fetch counted it.
        if (p.outcome.ack) this.release(p.outcome.ack.id);
        p.resolve();
      }
      this.fetchSent = false;
      // Answered before the commit was: settled by now.
      if (fetched) this.runBatch(fetched.items, await fetched.claimed);
      return fetched?.items.length ?? 0;
    } catch (error) {
      this.fetchSent = false;
      if (recording.length === 0) {
        this.log.warn({ err: (error as Error).message, queue: this.options.queue }, 'could not fetch deliveries');
        // A failing database is retried at the poll, not at every wake-up or outcome.
        this.fetchAgainAt = Date.now() + this.options.pollMs;
        return 0;
      }
      for (const p of recording) {
        await inTransaction(this.connection, (client) => this.work.record(client, [p.outcome])).then(() => {
          if (p.outcome.ack) this.release(p.outcome.ack.id);
          p.resolve();
        }, p.reject);
      }
      // The fetch goes again on its own, so a failure of its own is told apart from an outcome's.
      if (fetch > 0) this.woken = true;
      return 0;
    }
  }

  /**
   * How many jobs to claim next, and which relays to leave out, counting the slots of the
   * outcomes about to be recorded as free (their jobs complete a statement before the fetch).
   * The lane's first `capacity - reserve` slots go to any relay (pg-boss holds each to its
   * maxConcurrency); the reserve only to relays holding fewer than half of it, so relays that
   * already hold many (a hanging one with `maxConcurrency: 1000`, or several) can never take
   * the last slots. A reserve fetch claims no more than the fullest relay in it may still take.
   */
  private nextFetch(recording: readonly PendingOutcome<O>[]): { batchSize: number; ignoreGroups: string[] } {
    const { capacity, reserve } = this.options;
    const freed = recording.flatMap((p) => (p.outcome.ack && this.relayOf.has(p.outcome.ack.id) ? [p.outcome.ack.id] : []));
    const used = this.inFlight.size - freed.length;
    const open = capacity - reserve - used;
    if (open > 0) return { batchSize: Math.min(open, MAX_FETCH), ignoreGroups: [] };
    const held = new Map(this.held);
    for (const id of freed) {
      const relayId = this.relayOf.get(id)!;
      held.set(relayId, held.get(relayId)! - 1);
    }
    const small = Math.max(1, Math.floor(reserve / 2));
    const ignoreGroups = [...held].filter(([, count]) => count >= small).map(([relayId]) => relayId);
    // A relay whose own limit is below `small` is held by pg-boss; only the others could overshoot.
    const fullest = Math.max(0, ...[...held].filter(([relayId, count]) => count < small && (this.tiers.get(relayId) ?? Infinity) > count).map(([, count]) => count));
    return { batchSize: Math.max(0, Math.min(capacity - used, MAX_FETCH, small - fullest)), ignoreGroups };
  }

  /** Fetches and claims up to `batchSize` jobs on `db`; `undefined` when none were due. */
  private async fetch(db: PoolClient, batchSize: number, ignoreGroups: string[]): Promise<{ items: FetchedJob[]; claimed: Promise<C> } | undefined> {
    this.fetchSent = true;
    const fetched = await this.work.fetch(db, { batchSize, priority: this.options.priority, ignoreGroups });
    return fetched.items.length > 0 ? fetched : undefined;
  }

  private runBatch(fetched: FetchedJob[], claimed: C): void {
    const controllers = fetched.map(() => new AbortController());
    const runs = this.work.start(fetched.map((item, i) => ({ ...item, signal: controllers[i]!.signal })), claimed, this.record);
    fetched.forEach(({ jobId, job: data, ack, relayId, tier }, i) => {
      const job = { id: jobId, data };
      this.held.set(relayId, (this.held.get(relayId) ?? 0) + 1);
      if (tier) this.tiers.set(relayId, tier);
      this.relayOf.set(job.id, relayId);
      this.controllers.set(job.id, controllers[i]!);
      const done = runs[i]!
        .then(
          (settled) => (settled ? undefined : this.complete(ack)),
          async (error: unknown) => {
            this.log.warn({ err: (error as Error).message, deliveryId: job.data.deliveryId }, 'delivery job failed; pg-boss will retry it');
            await this.boss.fail(this.options.queue, job.id, { message: (error as Error).message });
          },
        )
        .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'could not settle a delivery job'))
        .finally(() => {
          // A recorded job's slot was freed at its commit (and fetched for in that transaction).
          if (this.release(job.id)) this.wakeSoon();
        });
      this.inFlight.set(job.id, done);
    });
  }

  /** Frees a job's slot, of the lane and of its relay; false when it was already free. */
  private release(jobId: string): boolean {
    const relayId = this.relayOf.get(jobId);
    if (relayId === undefined) return false;
    const left = (this.held.get(relayId) ?? 1) - 1;
    if (left > 0) this.held.set(relayId, left);
    else {
      this.held.delete(relayId);
      this.tiers.delete(relayId);
    }
    this.inFlight.delete(jobId);
    this.relayOf.delete(jobId);
    this.controllers.delete(jobId);
    return true;
  }

  /**
   * Completes a job its handler did not record, with the others of its tick, resolving once
   * they are gone: deleted and fenced as a recorded outcome's job is (queue/complete-jobs.ts),
   * on pg-boss's connections, as the lane's own is busy with its turns.
   */
  private complete(ack: JobAck): Promise<void> {
    this.completed.push(ack);
    this.completion ??= new Promise((resolve) => setImmediate(() => {
      this.completion = undefined;
      void this.flushCompleted().then(resolve);
    }));
    return this.completion;
  }

  private async flushCompleted(): Promise<void> {
    const acks = this.completed.splice(0);
    if (acks.length === 0) return;
    try {
      const { table } = await queueTable(this.boss, this.options.queue);
      await this.boss.getDb().executeSql(completeDeliveryJobsSql(table, 1), completeDeliveryJobsValues(acks, this.options.queue));
    } catch (error) {
      // Unacknowledged jobs run again after their heartbeat lapses; the attempt guard makes that a no-op.
      this.log.warn({ err: (error as Error).message, count: acks.length }, 'could not acknowledge delivery jobs');
    }
  }

  private async touch(): Promise<void> {
    const ids = [...this.inFlight.keys()];
    if (ids.length === 0) return;
    await this.boss.touch(this.options.queue, ids).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'could not heartbeat delivery jobs'));
  }
}
