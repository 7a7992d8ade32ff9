import { afterAll, describe, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, type HookyardProcess } from '../helpers/process.js';
import { configure, count, hookyard, PLAN, SCENARIO_TIMEOUT_MS, Scenario, sendWebhooks, spread, startReceiver, stopEverything, storedEvents, tally, type Receiver } from './harness.js';

let receiver: Receiver | undefined;

afterAll(async () => {
  await stopEverything();
  await receiver?.stop();
});

describe('chaos: rolling restart', () => {
  it(`answers every request 200-and-stored, 503-and-not-stored or refuses the connection across ${PLAN.rollingRestart.restarts} SIGTERM restarts`, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const plan = PLAN.rollingRestart;
    const scenario = new Scenario('rolling_restart');
    const databaseUrl = await createTestDatabase();
    receiver = await startReceiver();
    const port = String(await freePort());
    let api: HookyardProcess = await hookyard(databaseUrl, 'api', { PORT: port });
    const { sourceId } = await configure(api.url, receiver.url);

    const sendMs = (plan.events * 1000) / plan.rate;
    let restarts = 0;
    const exitCodes: (number | null)[] = [];
    const [outcomes] = await Promise.all([
      // A connection per request, as providers post: a refused connection is theirs to retry.
      sendWebhooks(api.url, { events: plan.events, rate: plan.rate, fresh: true }),
      spread(plan.restarts, sendMs, async () => {
        exitCodes.push(await api.stop());
        restarts++;
        api = await hookyard(databaseUrl, 'api', { PORT: port });
      }),
    ]);

    const stored = await storedEvents(databaseUrl, sourceId);
    const isStored = (seq: string) => stored.has(seq);
    const okNotStored = count(outcomes, (o) => o.status === 200 && stored.get(o.seq) !== o.eventId);
    const unavailableButStored = count(outcomes, (o) => o.status === 503 && isStored(o.seq));
    const fiveHundredsStored = count(outcomes, (o) => o.status !== undefined && o.status >= 500 && isStored(o.seq));
    const otherAnswers = count(outcomes, (o) => o.status !== undefined && o.status !== 200 && o.status !== 503);
    const noAnswer = outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED');
    scenario.figure({
      events: plan.events,
      rate: plan.rate,
      restarts,
      exit_codes: exitCodes,
      answers: tally(outcomes),
      stored: stored.size,
      closed_without_answer: noAnswer.length,
      closed_without_answer_stored: count(noAnswer, (o) => isStored(o.seq)),
    });
    scenario.equal('200 answers not stored', okNotStored, 0);
    // Gap 7: requests already received finish and are answered; new connections are refused or answered 503.
    scenario.equal('503 answers for a stored request', unavailableButStored, 0);
    scenario.equal('5xx answers for a stored request', fiveHundredsStored, 0);
    scenario.equal('answers other than 200 and 503', otherAnswers, 0);
    // A connection still in the kernel's accept queue when the listener closes, or a keep-alive
    // connection closed just as the client sent on it, is reset before any answer: to the
    // provider that is a refused connection (it retries), so it must never have been stored.
    scenario.equal('connections closed without an answer that were stored', count(noAnswer, (o) => isStored(o.seq)), 0);
    scenario.equal('clean exits on SIGTERM', count(exitCodes, (c) => c === 0), plan.restarts);
    await api.stop();
    await scenario.finish();
  });
});
