import { afterAll, describe, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import type { HookyardProcess } from '../helpers/process.js';
import { configure, count, deliveryFigures, drained, hookyard, PLAN, SCENARIO_TIMEOUT_MS, Scenario, sendWebhooks, spread, startReceiver, stopEverything, tally, type Receiver } from './harness.js';

let receiver: Receiver | undefined;

afterAll(async () => {
  await stopEverything();
  await receiver?.stop();
});

describe('chaos: worker crashes', () => {
  it(`loses no acknowledged webhook while a worker is kill -9-ed ${PLAN.workerCrashes.kills} times under ${PLAN.workerCrashes.rate}/s`, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const plan = PLAN.workerCrashes;
    const scenario = new Scenario('worker_crashes');
    const databaseUrl = await createTestDatabase();
    receiver = await startReceiver();
    const api = await hookyard(databaseUrl, 'api');
    const { relayId } = await configure(api.url, receiver.url);
    let worker: HookyardProcess = await hookyard(databaseUrl, 'worker');

    const sendMs = (plan.events * 1000) / plan.rate;
    let kills = 0;
    const [outcomes] = await Promise.all([
      sendWebhooks(api.url, { events: plan.events, rate: plan.rate }),
      spread(plan.kills, sendMs, async () => {
        worker.kill9();
        kills++;
        worker = await hookyard(databaseUrl, 'worker');
      }),
    ]);
    const acknowledged = new Set(outcomes.filter((o) => o.status === 200).map((o) => o.eventId!));
    await drained(receiver, databaseUrl, relayId, acknowledged);
    const figures = await deliveryFigures(receiver, databaseUrl, relayId, acknowledged);

    scenario.figure({ events: plan.events, rate: plan.rate, kills, answers: tally(outcomes), ...figures });
    // One api process takes this rate in full, shedding none.
    scenario.equal('acknowledged (2xx) of those sent', count(outcomes, (o) => o.status === 200), plan.events);
    scenario.equal('lost', figures.lost, 0);
    scenario.equal('copies with another webhook-id', figures.copies_with_another_webhook_id, 0);
    // Gap 2: every request that may have reached the receiver has an attempt in the log
    // (an attempt cut short by a crash as INTERRUPTED), so receipts ≤ attempts, per delivery.
    scenario.equal('receipts without an attempt logged', figures.receipts_without_attempt, 0);
    scenario.atLeast('attempts logged − receipts', figures.attempts_logged - figures.receipts, 0);
    scenario.equal('kills', kills, plan.kills);
    await worker.stop();
    await scenario.finish();
  });
});
