import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildHookyardSchema, printHookyardSchema } from '../../src/graphql/schema.js';
import { RelaysDocument, SourcesDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';
import { execute } from '../helpers/graphql.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_PUBLIC_URL: 'https://hooks.example.test' });
});

describe('schema.graphql', () => {
  it('is exactly what the code emits (run `npm run schema` after changing the API)', async () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(printHookyardSchema(await buildHookyardSchema())).toBe(committed);
  });

  it('accepts every example of the README\'s API section', () => {
    const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /## API[\s\S]*?```graphql\n([\s\S]*?)```/.exec(readme)![1]!;
    const operations = block
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .map((line) => line.replace(/\s+#.*$/, ''))
      .join('\n')
      .split(/\n(?=query|mutation|subscription)/)
      .map((op) => op.trim())
      .filter(Boolean);
    expect(operations.length).toBeGreaterThan(25);
    const fields = new Set<string>();
    for (const op of operations) {
      const errors = validate(schema, parse(op));
      expect(errors.map((e) => e.message), op).toEqual([]);
      fields.add(/^\w+\s*(?:\([^)]*\))?\s*\{\s*(\w+)/.exec(op)![1]!);
    }
    // One example per operation of the schema.
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const name of Object.keys(root?.getFields() ?? {})) expect(fields, `README example for ${name}`).toContain(name);
    }
  });
});

describe('sources and relays through codegen-typed documents', () => {
  it('lists them without ever showing a secret', async () => {
    const fx = fixtures(app.orm, app.keyring);
    await fx.source({ slug: 'listed', preset: 'GITHUB', secret: 'source-secret-value' });
    const { signingSecret } = await fx.relay({ url: 'http://127.0.0.1:9/x', retrySchedule: [1, 2] });

    const sources = await execute(app.url, SourcesDocument, {}, TEST_ADMIN_TOKEN);
    expect(sources.status).toBe(200);
    expect(sources.data!.sources).toEqual([
      expect.objectContaining({ slug: 'listed', preset: 'GITHUB', enabled: true, hasSecret: true, ingestUrl: 'https://hooks.example.test/ingest/listed' }),
      // The built-in source of operational events, made by a migration: the oldest.
      expect.objectContaining({ slug: '_hookyard', hasSecret: false }),
    ]);
    const relays = await execute(app.url, RelaysDocument, {}, TEST_ADMIN_TOKEN);
    expect(relays.data!.relays).toEqual([expect.objectContaining({ retrySchedule: [1, 2], timeoutMs: 15000, signingSecretHint: `whsec_…${signingSecret.slice(-4)}` })]);
    const everything = JSON.stringify([sources, relays]);
    expect(everything).not.toContain('source-secret-value');
    expect(everything).not.toContain(signingSecret.slice(6, 30));
  });

  it('refuses a missing or unknown token with HTTP 401 and UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'hky_not-a-real-token']) {
      const result = await execute(app.url, SourcesDocument, {}, token);
      expect(result.status).toBe(401);
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(result.data).toBeUndefined();
    }
  });

  it('serves the Sandbox landing page to a browser in development', async () => {
    const response = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<html|<!DOCTYPE html/i);
  });
});
