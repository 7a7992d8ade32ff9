import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { raisedLimitsEnv } from './limits.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
/** Hookyard's data dir during a run (empty: the database, key and token come from the environment). */
export const BENCH_DATA_DIR = path.join(tmpdir(), `hookyard-bench-data-${process.pid}`);
/** Removes BENCH_DATA_DIR, which Hookyard's processes leave behind: at the end of every run or tool. */
export const clearBenchDataDir = (): Promise<void> => rm(BENCH_DATA_DIR, { recursive: true, force: true });
export const GITHUB_SECRET = 'bench-github-secret';
/** Deliveries in flight per relay: every bench relay's `maxConcurrency`, and the peer relays' bound. */
export const RELAY_MAX_CONCURRENCY = 100;

/** GraphQL against a running Hookyard, as an operator would configure it. */
export async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

export async function createSource(url: string, input: Record<string, unknown>): Promise<string> {
  const data = await gql<{ createSource: { id: string } }>(url, 'mutation($input: CreateSourceInput!) { createSource(input: $input) { id } }', { input });
  return data.createSource.id;
}

export async function createRelay(url: string, target: string, extra: Record<string, unknown> = {}): Promise<string> {
  const data = await gql<{ createRelay: { relay: { id: string } } }>(
    url,
    'mutation($input: CreateRelayInput!) { createRelay(input: $input) { relay { id } } }',
    { input: { name: target, url: target, maxConcurrency: RELAY_MAX_CONCURRENCY, ...extra } },
  );
  return data.createRelay.relay.id;
}

export async function subscribeRelay(url: string, relayId: string, eventTypes: string[], sourceIds?: string[]): Promise<void> {
  await gql(url, 'mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }', {
    input: { relayId, eventTypes, sourceIds, forwardHeaders: ['x-bench-seq'] },
  });
}

/** A GitHub-signed ingest request carrying a sequence number the sink can time. */
export function githubRequest(slug: string, body: Buffer, seq: string, event = 'push') {
  return {
    path: `/ingest/${slug}`,
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': seq,
      'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`,
      'x-bench-seq': seq,
    },
    body,
  };
}

export const hookyardEnv = (databaseUrl: string, role = 'all'): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  HOOKYARD_ROLE: role,
  HOOKYARD_ADMIN_TOKEN: ADMIN_TOKEN,
  HOOKYARD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  HOOKYARD_DATA_DIR: BENCH_DATA_DIR,
  // Every limit the bench raises, and why, is declared (and reported) in one place.
  ...raisedLimitsEnv(),
});

export interface SinkStats {
  count: number;
  arrivals: Record<string, number>;
  /** When the first and the last request since the last reset arrived (ms since the epoch). */
  firstAt: number;
  lastAt: number;
}

export async function sinkStats(port: number): Promise<SinkStats> {
  return (await fetch(`http://127.0.0.1:${port}/__stats`)).json() as Promise<SinkStats>;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
