import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ADMIN_TOKEN, createRelay, createSource, GITHUB_SECRET, githubRequest, subscribeRelay } from '../../bench/lib/configure.js';
import { withClient } from '../../bench/lib/database.js';
import { openLoop } from '../../bench/lib/load.js';
import { forkServer, type Child } from '../../bench/lib/processes.js';
import { spawnHookyard, type HookyardProcess } from '../helpers/process.js';
import { waitUntil } from '../helpers/sink.js';

// The scenarios read the database through the bench's one-connection helper.
export { withClient };

/**
 * The chaos suite's one harness: real Hookyard processes (`node dist/src/main.js`, each in a
 * process group of its own), the benchmark's receiver in a process of its own, an open-loop
 * load of signed GitHub webhooks, and the figures each scenario reports. `npm test` runs the
 * quick plan; `npm run test:chaos` (HOOKYARD_CHAOS=full) the full counts of issue 11 and writes
 * the figures to test/chaos/results/latest.json.
 */
export const MODE: 'quick' | 'full' = process.env.HOOKYARD_CHAOS === 'full' ? 'full' : 'quick';

export const PLANS = {
  quick: {
    workerCrashes: { events: 600, rate: 150, kills: 3 },
    apiCrashes: { events: 450, rate: 150, kills: 2 },
    postgresRestart: { events: 450, rate: 100, downMs: 3_000 },
    rollingRestart: { events: 600, rate: 150, restarts: 2 },
    orderedDelivery: { events: 200, keys: 10, kills: 1 },
  },
  full: {
    workerCrashes: { events: 10_000, rate: 300, kills: 20 },
    apiCrashes: { events: 6_000, rate: 300, kills: 5 },
    postgresRestart: { events: 3_000, rate: 200, downMs: 7_000 },
    rollingRestart: { events: 6_000, rate: 300, restarts: 5 },
    orderedDelivery: { events: 2_000, keys: 20, kills: 1 },
  },
} as const;
export const PLAN = PLANS[MODE];

/** Per-scenario bound on the whole test (start-up, load, faults, drain). */
export const SCENARIO_TIMEOUT_MS = MODE === 'full' ? 6 * 60_000 : 120_000;
/** How long acknowledged work may take to reach the receiver once the load and the faults are over. */
export const DRAIN_TIMEOUT_MS = MODE === 'full' ? 180_000 : 60_000;

export const RESULTS_FILE = path.join(import.meta.dirname, 'results', 'latest.json');
export const ENCRYPTION_KEY = Buffer.alloc(32, 11).toString('base64');
export const SLUG = 'chaos';

/** Only the processes this file started, killed by their process group when it ends. */
const started = new Set<HookyardProcess>();
const dataDirs: string[] = [];

export async function stopEverything(): Promise<void> {
  for (const proc of started) proc.kill9();
  started.clear();
  for (const dir of dataDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/**
 * A Hookyard process of one role against `databaseUrl`; `port` keeps an address across
 * restarts (providers post to a fixed URL). The environment is built here, not inherited, so
 * a developer's own HOOKYARD_* or DATABASE_URL never leaks in.
 */
export async function hookyard(databaseUrl: string, role: 'api' | 'worker' | 'all', extra: Record<string, string> = {}): Promise<HookyardProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hookyard-chaos-data-'));
  dataDirs.push(dataDir);
  const proc = await spawnHookyard(
    {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      DATABASE_URL: databaseUrl,
      HOOKYARD_ROLE: role,
      HOOKYARD_ENCRYPTION_KEY: ENCRYPTION_KEY,
      HOOKYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      HOOKYARD_ALLOW_PRIVATE_TARGETS: 'true',
      HOOKYARD_DATA_DIR: dataDir,
      HOOKYARD_API_RATE_LIMIT_PER_SECOND: '0',
      HOOKYARD_DB_POOL_SIZE: '10',
      LOG_LEVEL: 'warn',
      ...extra,
    },
    { inheritEnv: false, readyTimeoutMs: 60_000 },
  );
  started.add(proc);
  proc.child.once('exit', () => started.delete(proc));
  return proc;
}

export interface Receiver {
  url: string;
  /** Per delivery id: copies received and the distinct `webhook-id`s they carried. */
  receipts(): Promise<Record<string, { copies: number; webhookIds: string[] }>>;
  stop(): Promise<void>;
}

/** The benchmark's receiver (answers 200 at once) in a process of its own. */
export async function startReceiver(): Promise<Receiver> {
  const child: Child = await forkServer('sink-server.js');
  const url = `http://127.0.0.1:${child.port}`;
  return {
    url,
    receipts: async () => (await fetch(`${url}/__receipts`)).json() as Promise<Record<string, { copies: number; webhookIds: string[] }>>,
    stop: () => child.stop(),
  };
}

/** A GitHub source, a relay to the receiver and a subscription, through the API as an operator would. */
export async function configure(apiUrl: string, receiverUrl: string): Promise<{ sourceId: string; relayId: string }> {
  const sourceId = await createSource(apiUrl, { name: SLUG, slug: SLUG, preset: 'GITHUB', secret: GITHUB_SECRET });
  const relayId = await createRelay(apiUrl, `${receiverUrl}/chaos`, { timeoutMs: 10_000 });
  await subscribeRelay(apiUrl, relayId, ['*'], [sourceId]);
  return { sourceId, relayId };
}

/** What became of one signed webhook a provider sent. */
export interface Outcome {
  seq: string;
  status?: number;
  retryAfter?: string;
  eventId?: string;
  /** undici's code when no answer came (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...). */
  error?: string;
  ms: number;
}

/**
 * `events` signed webhooks at `rate` per second, on a schedule that ignores the answers (an
 * open loop: providers do not slow down for us). `fresh` opens a connection per request, as
 * most providers do; otherwise keep-alive connections are reused.
 */
export async function sendWebhooks(apiUrl: string, options: { events: number; rate: number; fresh?: boolean; connections?: number }): Promise<Outcome[]> {
  const run = randomUUID().slice(0, 8);
  const outcomes: Outcome[] = [];
  const body = (n: number) => Buffer.from(JSON.stringify({ chaos: run, n, padding: 'x'.repeat(200) }));
  await openLoop(apiUrl, {
    rate: options.rate,
    durationMs: (options.events * 1000) / options.rate,
    connections: options.connections ?? 64,
    request: (n) => {
      const request = githubRequest(SLUG, body(n), `${run}-${n}`);
      if (options.fresh) (request.headers as Record<string, string>).connection = 'close';
      return request;
    },
    onAnswer: (n, answer) => {
      let eventId: string | undefined;
      if (answer.status === 200) eventId = (JSON.parse(answer.body) as { id: string }).id;
      const retryAfter = answer.headers['retry-after'];
      outcomes[n] = { seq: `${run}-${n}`, status: answer.status, eventId, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, ms: answer.ms };
    },
    onError: (n, error, ms) => {
      outcomes[n] = { seq: `${run}-${n}`, error: error.code ?? error.name, ms };
    },
  });
  return outcomes;
}

/** Runs `fault` `times` times, spread evenly over `spanMs` from now (a fault never overlaps the next). */
export async function spread(times: number, spanMs: number, fault: (i: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  for (let i = 0; i < times; i++) {
    const due = start + ((i + 1) * spanMs) / (times + 1);
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    await fault(i);
  }
}

/** The events stored for the chaos source, by the sender's sequence (GitHub's delivery id). */
export async function storedEvents(databaseUrl: string, sourceId: string): Promise<Map<string, string>> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ id: string; idempotency_key: string }>('select id, idempotency_key from event where source_id = $1', [sourceId]);
    return new Map(rows.map((r) => [r.idempotency_key, r.id]));
  });
}

export interface DeliveryFacts {
  id: string;
  eventId: string;
  status: string;
  attempts: number;
}

export async function deliveries(databaseUrl: string, relayId: string): Promise<Map<string, DeliveryFacts>> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ id: string; event_id: string; status: string; attempts: number }>(
      `select d.id, d.event_id, d.status, (select count(*)::int from attempt a where a.delivery_id = d.id) as attempts
       from delivery d where d.relay_id = $1`,
      [relayId],
    );
    return new Map(rows.map((r) => [r.event_id, { id: r.id, eventId: r.event_id, status: r.status, attempts: r.attempts }]));
  });
}


/**
 * Waits until every acknowledged event reached the receiver (or the drain deadline passed:
 * what is missing then is counted as lost, not thrown).
 */
export async function drained(receiver: Receiver, databaseUrl: string, relayId: string, acknowledged: ReadonlySet<string>): Promise<void> {
  await waitUntil(async () => {
    const [byEvent, receipts] = await Promise.all([deliveries(databaseUrl, relayId), receiver.receipts()]);
    for (const eventId of acknowledged) {
      const delivery = byEvent.get(eventId);
      if (!delivery || !receipts[delivery.id] || delivery.status !== 'SUCCEEDED') return undefined;
    }
    return true;
  }, DRAIN_TIMEOUT_MS, 'every acknowledged event delivered').catch(() => undefined);
}

/** Acknowledged, delivered, lost, duplicated, attempts vs receipts: the delivery figures of a scenario. */
export async function deliveryFigures(receiver: Receiver, databaseUrl: string, relayId: string, acknowledged: ReadonlySet<string>) {
  const [byEvent, receipts] = await Promise.all([deliveries(databaseUrl, relayId), receiver.receipts()]);
  let delivered = 0;
  let duplicated = 0;
  let extraCopies = 0;
  let foreignWebhookIds = 0;
  let receipts_ = 0;
  let attempts = 0;
  let receiptsWithoutAttempt = 0;
  for (const eventId of acknowledged) {
    const delivery = byEvent.get(eventId);
    const receipt = delivery ? receipts[delivery.id] : undefined;
    if (delivery) attempts += delivery.attempts;
    if (!receipt) continue;
    delivered++;
    receipts_ += receipt.copies;
    if (receipt.copies > 1) {
      duplicated++;
      extraCopies += receipt.copies - 1;
    }
    // Every copy of a delivery carries its event id as `webhook-id`, retries and redeliveries alike.
    if (receipt.webhookIds.length !== 1 || receipt.webhookIds[0] !== eventId) foreignWebhookIds++;
    receiptsWithoutAttempt += Math.max(0, receipt.copies - (delivery?.attempts ?? 0));
  }
  return {
    acknowledged: acknowledged.size,
    delivered_at_least_once: delivered,
    lost: acknowledged.size - delivered,
    delivered_more_than_once: duplicated,
    extra_copies: extraCopies,
    copies_with_another_webhook_id: foreignWebhookIds,
    receipts: receipts_,
    attempts_logged: attempts,
    receipts_without_attempt: receiptsWithoutAttempt,
  };
}

export function count<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  let n = 0;
  for (const item of items) if (predicate(item)) n++;
  return n;
}

/** Counts of answers by status (and of errors by code), e.g. { "200": 590, "503": 3, "ECONNREFUSED": 7 }. */
export function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status !== undefined ? String(o.status) : o.error ?? 'none';
    result[key] = (result[key] ?? 0) + 1;
  }
  return result;
}

export interface Check {
  name: string;
  expected: string;
  actual: number | string | boolean;
  pass: boolean;
}

/**
 * A scenario's figures and checks. The figures are written (full run) before anything is
 * asserted, so a failing check still leaves its figure; then every check is asserted softly,
 * so one run reports all that fail.
 */
export class Scenario {
  readonly figures: Record<string, unknown> = {};
  readonly checks: Check[] = [];
  private readonly started = Date.now();

  constructor(readonly name: string) {}

  figure(values: Record<string, unknown>): void {
    Object.assign(this.figures, values);
  }

  /** `actual` must equal `expected`. */
  equal(name: string, actual: number | string | boolean, expected: number | string | boolean): void {
    this.checks.push({ name, expected: `= ${expected}`, actual, pass: actual === expected });
  }

  atLeast(name: string, actual: number, floor: number): void {
    this.checks.push({ name, expected: `≥ ${floor}`, actual, pass: actual >= floor });
  }

  atMost(name: string, actual: number, ceiling: number): void {
    this.checks.push({ name, expected: `≤ ${ceiling}`, actual, pass: actual <= ceiling });
  }

  async finish(): Promise<void> {
    const entry = { mode: MODE, seconds: Math.round((Date.now() - this.started) / 1000), figures: this.figures, checks: this.checks };
    if (MODE === 'full') await recordResult(this.name, entry);
    // A failed check prints the figures too, whatever the mode: a run that failed once must say why.
    if (MODE === 'full' || process.env.HOOKYARD_CHAOS_VERBOSE || this.checks.some((c) => !c.pass)) process.stdout.write(`${this.name}: ${JSON.stringify(this.figures)}\n`);
    for (const check of this.checks) expect.soft(check.pass, `${this.name}: ${check.name} was ${check.actual}, expected ${check.expected}`).toBe(true);
  }
}

export interface Results {
  mode: string;
  at: string;
  machine: Record<string, unknown>;
  scenarios: Record<string, { mode: string; seconds: number; figures: Record<string, unknown>; checks: Check[] }>;
}

async function recordResult(name: string, entry: Results['scenarios'][string]): Promise<void> {
  const results = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as Results;
  results.scenarios[name] = entry;
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}
