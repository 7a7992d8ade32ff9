import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { PublishEventDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { REPO_ROOT } from '../helpers/process.js';
import { startSink, waitUntil, type Sink } from '../helpers/sink.js';

/**
 * The typed SDK's example (examples/follow-deliveries.ts), run as a user runs it, by Node 24
 * straight from its TypeScript, against a real app: it cannot rot. Its types are checked with
 * the tests (test/tsconfig.json includes examples/).
 */
const SCRIPT = 'examples/follow-deliveries.ts';
let app: App;
let sink: Sink;
let child: ChildProcess | undefined;

beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  sink = await startSink();
  app = await startTestApp(databaseUrl);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  await sink.close();
});

describe('the SDK example', () => {
  it('creates a relay and prints its deliveries as they happen', async () => {
    let output = '';
    child = spawn(process.execPath, [SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOOKYARD_URL: app.url, HOOKYARD_TOKEN: TEST_ADMIN_TOKEN, RECEIVER_URL: `${sink.url}/example` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const relayId = await waitUntil(() => output.match(/^relay (\S+) \(signing secret whsec_/m)?.[1], 30_000, `the relay line (output so far: ${output})`);
    // Its subscription is live before the event is published: the feed sends changes from then on.
    await waitUntil(() => (app.liveSubscribers() === 1 ? true : undefined), 20_000, 'the example to subscribe');
    const published = await execute(app.url, PublishEventDocument, { type: 'order.paid', payload: { id: 1 } }, TEST_ADMIN_TOKEN);
    expect(published.errors).toBeUndefined();

    await waitUntil(() => (/^SUCCEEDED order\.paid delivery \S+ \(attempts: 1\)$/m.test(output) ? true : undefined), 30_000, `the SUCCEEDED line (output so far: ${output})`);
    // Every status the delivery passed through, in order, as the README shows them.
    const statuses = [...output.matchAll(/^(\w+) order\.paid delivery \S+ \(attempts: (\d+)\)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(statuses).toEqual(['PENDING 0', 'DELIVERING 0', 'SUCCEEDED 1']);
    const [received] = await sink.waitFor(1);
    expect(received!.url).toBe('/example');
    expect(relayId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is the script the README shows', () => {
    const readme = readFileSync(new URL('README.md', `file://${REPO_ROOT}/`), 'utf8');
    const script = readFileSync(new URL(SCRIPT, `file://${REPO_ROOT}/`), 'utf8');
    expect(readme.includes(`\`\`\`ts\n${script}\`\`\``), `README shows ${SCRIPT} verbatim in a ts block`).toBe(true);
  });
});
