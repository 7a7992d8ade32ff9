import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { fixtures } from '../helpers/fixtures.js';

/** Every copy-paste command of the README's "Providers" section, run as a user would. */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Providers'), readme.indexOf('\n## ', readme.indexOf('## Providers') + 5));
const commands = [...section.matchAll(/`(\w+)` \(slug `([\w-]+)`[^\n]*\n(?:[^\n]*\n)*?```sh\n([\s\S]*?)```/g)].map((m) => ({ preset: m[1]!, slug: m[2]!, script: m[3]! }));

let app: App;

beforeAll(async () => {
  app = await startTestApp(await createTestDatabase(), { HOOKYARD_ROLE: 'api' });
  const fx = fixtures(app.orm, app.keyring);
  await fx.source({ slug: 'github', preset: 'GITHUB', secret: 'my-github-secret' });
  await fx.source({ slug: 'stripe', preset: 'STRIPE', secret: 'whsec_test_secret' });
  await fx.source({ slug: 'standard', preset: 'STANDARD_WEBHOOKS', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
  await fx.source({ slug: 'shopify', preset: 'SHOPIFY', secret: 'my-shopify-secret' });
  await fx.source({
    slug: 'adyen', preset: 'ADYEN', secret: '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056',
    basicAuthUsername: 'adyen', basicAuthPassword: 'adyen-password',
  });
  await fx.source({ slug: 'slack', preset: 'SLACK', secret: 'my-slack-signing-secret' });
  await fx.source({ slug: 'twilio', preset: 'TWILIO', secret: 'my-twilio-auth-token', publicUrl: `${app.url}/ingest/twilio` });
  await fx.source({ slug: 'acme', preset: 'HMAC', secret: 'my-acme-secret', signatureHeader: 'X-Acme-Signature', signaturePrefix: 'sha256=', eventTypeFrom: 'json:$.type' });
});

describe('README providers section', () => {
  it('has a command for every preset', () => {
    expect(commands.map((c) => c.preset).sort()).toEqual(['ADYEN', 'GITHUB', 'HMAC', 'SHOPIFY', 'SLACK', 'STANDARD_WEBHOOKS', 'STRIPE', 'TWILIO']);
  });

  it.each(commands.map((c) => [c.preset, c]))('the %s command is accepted', async (_preset, command) => {
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', command.script], { env: { ...process.env, HOOKYARD: app.url } });
    expect(stdout.trim(), stdout).toMatch(command.preset === 'ADYEN' ? /^\[accepted\]$/ : /"status":"accepted"/);
    const { rows } = await app.pool.query(`select count(*)::int as n from event e join source s on s.id = e.source_id where s.slug = $1`, [command.slug]);
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });
});
