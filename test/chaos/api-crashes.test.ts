import { afterAll, describe, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, type HookyardProcess } from '../helpers/process.js';
import { configure, count, deliveries, hookyard, PLAN, SCENARIO_TIMEOUT_MS, Scenario, sendWebhooks, spread, startReceiver, stopEverything, storedEvents, tally, type Receiver } from './harness.js';

let receiver: Receiver | undefined;

afterAll(async () => {
  await stopEverything();
  await receiver?.stop();
});

describe('chaos: api crashes', () => {
  it(`stores every 2xx and never answers 404 for the known source while the api is kill -9-ed ${PLAN.apiCrashes.kills} times`, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const plan = PLAN.apiCrashes;
    const scenario = new Scenario('api_crashes');
    const databaseUrl = await createTestDatabase();
    receiver = await startReceiver();
    // Providers post to one fixed address: each new api process takes the same port.
    const port = String(await freePort());
    let api: HookyardProcess = await hookyard(databaseUrl, 'api', { PORT: port });
    const { sourceId, relayId } = await configure(api.url, receiver.url);

    const sendMs = (plan.events * 1000) / plan.rate;
    let kills = 0;
    const [outcomes] = await Promise.all([
      sendWebhooks(api.url, { events: plan.events, rate: plan.rate, fresh: true }),
      spread(plan.kills, sendMs, async () => {
        api.kill9();
        kills++;
        api = await hookyard(databaseUrl, 'api', { PORT: port });
      }),
    ]);

    const stored = await storedEvents(databaseUrl, sourceId);
    const byEvent = await deliveries(databaseUrl, relayId);
    const acknowledged = outcomes.filter((o) => o.status === 200);
    const ackedNotStored = count(acknowledged, (o) => stored.get(o.seq) !== o.eventId || !byEvent.has(o.eventId!));
    const fiveHundreds = count(outcomes, (o) => o.status !== undefined && o.status >= 500 && o.status !== 503);
    scenario.figure({ events: plan.events, rate: plan.rate, kills, answers: tally(outcomes), acknowledged: acknowledged.length, acknowledged_not_stored: ackedNotStored, stored: stored.size });
    scenario.equal('2xx answers not stored (event and delivery)', ackedNotStored, 0);
    // Gap 1: a starting api answers 503 with Retry-After (or is not listening yet), never 404.
    scenario.equal('404 answers for the known source', count(outcomes, (o) => o.status === 404), 0);
    scenario.equal('503 answers without Retry-After', count(outcomes, (o) => o.status === 503 && !o.retryAfter), 0);
    scenario.equal('5xx other than 503', fiveHundreds, 0);
    scenario.equal('kills', kills, plan.kills);
    await api.stop();
    await scenario.finish();
  });
});
