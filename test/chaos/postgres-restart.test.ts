import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'graphql';
import { afterAll, describe, it } from 'vitest';
import { ADMIN_TOKEN, gql } from '../../bench/lib/configure.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { waitUntil } from '../helpers/sink.js';
import { subscribe } from '../helpers/ws.js';
import { configure, count, deliveries, deliveryFigures, drained, hookyard, PLAN, SCENARIO_TIMEOUT_MS, Scenario, sendWebhooks, startReceiver, stopEverything, tally, type Receiver } from './harness.js';

let cluster: EmbeddedPostgres | undefined;
let stateDir: string | undefined;
let receiver: Receiver | undefined;

afterAll(async () => {
  await stopEverything();
  await receiver?.stop();
  await cluster?.stop();
  if (cluster) await rm(cluster.clusterDir, { recursive: true, force: true });
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

interface Update {
  deliveryUpdated: { id: string; status: string; attemptCount: number };
}

const DELIVERY_UPDATED = parse('subscription($filter: DeliveryFilter) { deliveryUpdated(filter: $filter) { id status attemptCount } }');

/** Where a delivery's statuses may go next, per DESIGN.md: a feed that skips one missed it. */
const ORDER = ['PENDING', 'DELIVERING', 'SUCCEEDED'];

describe('chaos: PostgreSQL restart', () => {
  it(`answers 503 with Retry-After while PostgreSQL is down for ${PLAN.postgresRestart.downMs / 1000} s, and everything recovers without a restart`, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const plan = PLAN.postgresRestart;
    const scenario = new Scenario('postgres_restart');
    // A cluster of this test's own, whatever DATABASE_URL says: this test stops it under load.
    stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-chaos-pg-'));
    const settings = { fsync: 'off', max_connections: '100' };
    cluster = await startEmbeddedPostgres({ stateDir, settings });
    await ensureDatabase(cluster.adminUrl, 'hookyard');
    const databaseUrl = cluster.url;
    receiver = await startReceiver();
    const api = await hookyard(databaseUrl, 'api');
    const worker = await hookyard(databaseUrl, 'worker');
    const { relayId } = await configure(api.url, receiver.url);

    const feed = subscribe<Update, { filter: { relayId: string } }>(api.url, DELIVERY_UPDATED, { filter: { relayId } }, `Bearer ${ADMIN_TOKEN}`);
    await feed.connected;
    let feedClosed = false;
    void feed.closed.then(() => (feedClosed = true));

    const sendMs = (plan.events * 1000) / plan.rate;
    let outageStartedAt = 0;
    let outageEndedAt = 0;
    const [outcomes] = await Promise.all([
      sendWebhooks(api.url, { events: plan.events, rate: plan.rate }),
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, sendMs / 4));
        outageStartedAt = Date.now();
        await cluster!.stop();
        await new Promise((resolve) => setTimeout(resolve, plan.downMs));
        cluster = await startEmbeddedPostgres({ stateDir: stateDir!, settings });
        outageEndedAt = Date.now();
      })(),
    ]);

    // Recovered without a restart: the same processes answer, ingest and deliver.
    const apiReady = await waitUntil(async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'the api ready again').catch(() => false);
    const graphqlAnswers = await gql<{ relays: { id: string }[] }>(api.url, '{ relays { id } }').then((d) => d.relays.length === 1, () => false);
    const acknowledged = new Set(outcomes.filter((o) => o.status === 200).map((o) => o.eventId!));
    await drained(receiver, databaseUrl, relayId, acknowledged);
    const figures = await deliveryFigures(receiver, databaseUrl, relayId, acknowledged);

    // The feed: every delivery's statuses, in order, ending where the database says it is.
    const byEvent = await deliveries(databaseUrl, relayId);
    await waitUntil(() => {
      const last = new Map(feed.results.map((r) => [r.deliveryUpdated.id, r.deliveryUpdated.status]));
      return [...acknowledged].every((e) => last.get(byEvent.get(e)?.id ?? '') === 'SUCCEEDED') ? true : undefined;
    }, 30_000, 'the feed to show every delivery SUCCEEDED').catch(() => undefined);
    const seen = new Map<string, string[]>();
    for (const { deliveryUpdated: u } of feed.results) seen.set(u.id, [...(seen.get(u.id) ?? []), u.status]);
    let missedStatus = 0;
    // What the feed showed of a few of them, against where the database says each ended: a
    // failure says whether the feed skipped a status or only had not caught up yet.
    const missedExamples: { seen: string[]; stored: string | undefined }[] = [];
    for (const eventId of acknowledged) {
      const delivery = byEvent.get(eventId);
      const statuses = (delivery && seen.get(delivery.id)) ?? [];
      // Crashes aside (none here), a delivery to a receiver that answers 200 goes PENDING →
      // DELIVERING → SUCCEEDED; a retry after a lost commit repeats DELIVERING.
      const distinct = statuses.filter((s, i) => s !== statuses[i - 1]);
      const inOrder = distinct.every((s, i) => i === 0 || ORDER.indexOf(s) >= ORDER.indexOf(distinct[i - 1]!) || (s === 'DELIVERING' && distinct[i - 1] === 'RETRYING'));
      if (distinct[0] !== 'PENDING' || !distinct.includes('DELIVERING') || distinct.at(-1) !== delivery?.status || !inOrder) {
        missedStatus++;
        if (missedExamples.length < 5) missedExamples.push({ seen: statuses, stored: delivery?.status });
      }
    }
    await feed.dispose();

    for (const [name, proc] of [['api', api], ['worker', worker]] as const) {
      if (proc.child.exitCode !== null) process.stderr.write(`postgres_restart: the ${name} exited with ${proc.child.exitCode}:\n${proc.output().slice(-3000)}\n`);
    }
    const answered = outcomes.filter((o) => o.status !== undefined);
    scenario.figure({
      events: plan.events,
      rate: plan.rate,
      outage_ms: outageEndedAt - outageStartedAt,
      answers: tally(outcomes),
      slowest_answer_ms: Math.round(Math.max(0, ...answered.map((o) => o.ms))),
      feed_updates: feed.results.length,
      feed_deliveries_missing_a_status: missedStatus,
      ...(missedExamples.length > 0 ? { feed_missed_examples: missedExamples } : {}),
      ...figures,
    });
    scenario.atLeast('503 answers during the outage', count(outcomes, (o) => o.status === 503), 1);
    scenario.equal('503 answers without Retry-After', count(outcomes, (o) => o.status === 503 && !o.retryAfter), 0);
    scenario.equal('answers other than 200 and 503', count(answered, (o) => o.status !== 200 && o.status !== 503), 0);
    scenario.equal('requests without an answer', outcomes.length - answered.length, 0);
    scenario.equal('answers slower than 5 s', count(answered, (o) => o.ms > 5_000), 0);
    scenario.atLeast('acknowledged after the outage', count(outcomes, (o, ) => o.status === 200), 1);
    scenario.equal('api and worker still the first processes', api.child.exitCode === null && worker.child.exitCode === null, true);
    scenario.equal('api ready again', apiReady, true);
    scenario.equal('GraphQL answers again', graphqlAnswers, true);
    scenario.equal('lost', figures.lost, 0);
    scenario.equal('copies with another webhook-id', figures.copies_with_another_webhook_id, 0);
    scenario.equal('receipts without an attempt logged', figures.receipts_without_attempt, 0);
    // Gap 3: after its LISTEN connection reconnects, the feed catches up from the database.
    scenario.equal('feed closed during the outage', feedClosed, false);
    scenario.equal('deliveries whose feed missed a status', missedStatus, 0);
    await worker.stop();
    await api.stop();
    await scenario.finish();
  });
});
