import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';

/** Behind the operator's reverse proxy, refusals are logged under the client's address, not the proxy's. */
let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api', HOOKYARD_TRUSTED_PROXIES: 'loopback' });
  await fixtures(app.orm, app.keyring).source({ slug: 'gh', preset: 'GITHUB', secret: 's' });
});

async function unsigned(headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${app.url}/ingest/gh`, { method: 'POST', headers: { 'x-github-event': 'push', ...headers }, body: '{}' });
  return response.status;
}

async function rejectedFrom(address: string): Promise<number> {
  const { rows } = await app.pool.query<{ n: number }>(`select count(*)::int as n from rejected_request where remote_address = $1`, [address]);
  return rows[0]!.n;
}

describe('HOOKYARD_TRUSTED_PROXIES', () => {
  it('takes the client address from a trusted proxy\'s X-Forwarded-For, and the peer otherwise', async () => {
    expect(await unsigned({ 'x-forwarded-for': '6.6.6.6, 198.51.100.9' })).toBe(401);
    expect(await unsigned({})).toBe(401);
    await expect.poll(() => rejectedFrom('198.51.100.9'), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => rejectedFrom('127.0.0.1'), { timeout: 10_000 }).toBe(1);
    expect(await rejectedFrom('6.6.6.6')).toBe(0);
  });
});
