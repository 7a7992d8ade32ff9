import { sign } from '@octokit/webhooks-methods';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { CreateSourceDocument, RotateSourceSecretDocument } from '../generated/graphql.js';
import { startTestApp, TEST_ADMIN_TOKEN } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { execute } from '../helpers/graphql.js';
import { waitUntil } from '../helpers/sink.js';

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
});

async function createSource(slug: string, secret: string): Promise<string> {
  const result = await execute(app.url, CreateSourceDocument, { input: { name: slug, slug, preset: 'GITHUB', secret } }, TEST_ADMIN_TOKEN);
  return result.data!.createSource.id;
}

async function send(slug: string, secret: string): Promise<number> {
  const body = JSON.stringify({ n: Math.random() });
  const response = await fetch(`${app.url}/ingest/${slug}`, {
    method: 'POST',
    headers: { 'x-github-event': 'push', 'x-hub-signature-256': await sign(secret, body) },
    body,
  });
  return response.status;
}

describe('secret rotation', () => {
  it('verifies with the old and the new secret until the old one expires, then only the new one', async () => {
    const id = await createSource('rotating', 'old-secret');
    const rotated = await execute(app.url, RotateSourceSecretDocument, { id, secret: 'new-secret', expireOldAfterSeconds: 2 }, TEST_ADMIN_TOKEN);
    expect(rotated.data!.rotateSourceSecret.liveSecretCount).toBe(2);
    expect(await send('rotating', 'old-secret')).toBe(200);
    expect(await send('rotating', 'new-secret')).toBe(200);
    expect(await send('rotating', 'never-was')).toBe(401);
    await waitUntil(async () => ((await send('rotating', 'old-secret')) === 401 ? true : undefined), 15_000, 'the old secret to expire');
    expect(await send('rotating', 'new-secret')).toBe(200);
    const refused = async () => (await app.pool.query(`select coalesce(sum(count), 0)::int as n from rejected_request where slug = 'rotating' and reason = 'INVALID_SIGNATURE'`)).rows[0].n as number;
    await expect.poll(refused, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  });

  it('retires the old secret at once with expireOldAfterSeconds: 0, and keeps an earlier expiry', async () => {
    const id = await createSource('rotate-now', 'first');
    await execute(app.url, RotateSourceSecretDocument, { id, secret: 'second', expireOldAfterSeconds: 3600 }, TEST_ADMIN_TOKEN);
    const third = await execute(app.url, RotateSourceSecretDocument, { id, secret: 'third', expireOldAfterSeconds: 0 }, TEST_ADMIN_TOKEN);
    expect(third.data!.rotateSourceSecret.liveSecretCount).toBe(1);
    expect(await send('rotate-now', 'first')).toBe(401);
    expect(await send('rotate-now', 'second')).toBe(401);
    expect(await send('rotate-now', 'third')).toBe(200);
  });

  it('checks the new secret\'s format and the source id', async () => {
    const sw = await execute(app.url, CreateSourceDocument, { input: { name: 'sw', slug: 'sw-rotate', preset: 'STANDARD_WEBHOOKS', secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` } }, TEST_ADMIN_TOKEN);
    const bad = await execute(app.url, RotateSourceSecretDocument, { id: sw.data!.createSource.id, secret: 'not-a-whsec' }, TEST_ADMIN_TOKEN);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'secret' });
    const missing = await execute(app.url, RotateSourceSecretDocument, { id: '01900000-0000-7000-8000-000000000000', secret: 'x' }, TEST_ADMIN_TOKEN);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
