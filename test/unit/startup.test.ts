import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { decodeSlug } from '../../src/ingest/route.js';
import { CannotRun } from '../../src/startup/cannot-run.js';
import { existingDatabase } from '../../src/startup/database.js';
import { appKeyring, existingKeyring } from '../../src/startup/keyring.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'hookyard-startup-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const config = loadConfig({});
const silent = createLogger('silent');

describe('the keyring, shared by the app and npm run reencrypt', () => {
  it('the app creates the development key file once; the tool finds that same key', async () => {
    const created = await appKeyring(config, dataDir, silent);
    const again = await appKeyring(config, dataDir, silent);
    const found = await existingKeyring(config, dataDir);
    expect(again.current.id).toBe(created.current.id);
    expect(found.current.id).toBe(created.current.id);
  });

  it('the tool never creates a key: a missing or broken file is CannotRun (exit 78), naming the file', async () => {
    const file = path.join(dataDir, 'encryption-key');
    await expect(existingKeyring(config, dataDir)).rejects.toThrow(new CannotRun(`HOOKYARD_ENCRYPTION_KEY is not set and ${file} does not exist: set the key Hookyard runs with`));
    await writeFile(file, 'not a key\n');
    const broken = existingKeyring(config, dataDir);
    await expect(broken).rejects.toBeInstanceOf(CannotRun);
    await expect(broken).rejects.toThrow(file);
  });

  it('HOOKYARD_ENCRYPTION_KEY wins over the file, and old keys only open', async () => {
    const key = randomBytes(32).toString('base64');
    const old = randomBytes(32).toString('base64');
    const withKey = loadConfig({ HOOKYARD_ENCRYPTION_KEY: key, HOOKYARD_ENCRYPTION_KEYS_OLD: old });
    const app = await appKeyring(withKey, dataDir, silent);
    const tool = await existingKeyring(withKey, dataDir);
    const oldId = (await existingKeyring(loadConfig({ HOOKYARD_ENCRYPTION_KEY: old }), dataDir)).current.id;
    expect(tool.current.id).toBe(app.current.id);
    expect(app.current.id).not.toBe(oldId);
    expect([...app.byId.keys()].sort()).toEqual([app.current.id, oldId].sort());
  });
});

describe('the database, shared by the app and npm run reencrypt', () => {
  it('DATABASE_URL is used as it is; without it the tool needs the embedded database the app made', async () => {
    const url = 'postgres://hookyard@127.0.0.1:1/hookyard';
    const given = await existingDatabase(loadConfig({ DATABASE_URL: url }), dataDir, () => undefined);
    expect([given.url, given.embedded]).toEqual([url, false]);
    await expect(existingDatabase(config, dataDir, () => undefined)).rejects.toBeInstanceOf(CannotRun);
  });
});

describe('ingest slugs', () => {
  it.each([
    ['orders', 'orders'],
    ['caf%C3%A9', 'café'],
    ['%E0%A4%A', '%E0%A4%A'], // broken percent-encoding: an unknown slug (404), not a 500
  ])('%s → %s', (segment, slug) => {
    expect(decodeSlug(segment)).toBe(slug);
  });
});
