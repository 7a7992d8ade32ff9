import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { InvalidConfigError, loadConfig, type Config } from './config.js';
import { keyringFromConfig } from './crypto/keyring-from-config.js';
import { parseKey, type Key } from './crypto/keyring.js';
import { reencryptAll } from './crypto/reencrypt.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';

/**
 * `npm run reencrypt`: the last step of a key rotation. Once every process runs with the new
 * HOOKYARD_ENCRYPTION_KEY and the earlier keys in HOOKYARD_ENCRYPTION_KEYS_OLD, this re-seals
 * every stored secret under the new key, so the old keys can then be dropped.
 * Exits 0 when nothing is left under another key, 1 when something is (or the run failed),
 * 78 when it cannot run (configuration, no key, no database).
 */

class CannotRun extends Error {}

/** The key the app runs with; never generated here (a fresh key would open nothing). */
async function currentKey(config: Config, dataDir: string): Promise<Key> {
  if (config.encryptionKey) return parseKey(config.encryptionKey);
  const file = path.join(dataDir, 'encryption-key');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new CannotRun(`HOOKYARD_ENCRYPTION_KEY is not set and ${file} does not exist: set the key Hookyard runs with`);
  }
  try {
    return parseKey(text);
  } catch (error) {
    throw new CannotRun(`${file} ${(error as Error).message}`);
  }
}

/** DATABASE_URL, or the embedded database of a zero-setup install (as the app finds it). */
async function openDatabase(config: Config, dataDir: string): Promise<{ url: string; close: () => Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, close: async () => {} };
  if (!existsSync(path.join(dataDir, 'postgres.json'))) {
    throw new CannotRun(`DATABASE_URL is not set and ${dataDir} holds no embedded database: set DATABASE_URL, or run where Hookyard runs`);
  }
  let startedHere = false;
  const embedded = await startEmbeddedPostgres({
    stateDir: dataDir,
    fallbackDir: config.embeddedFallbackDir,
    log: (line) => {
      // The only signal of whether the cluster was already up, e.g. under a running app.
      if (line.startsWith('starting ')) startedHere = true;
      process.stderr.write(`${line}\n`);
    },
  });
  // Stopping a cluster the running app uses would take the app down with us.
  return { url: embedded.url, close: async () => (startedHere ? embedded.stop() : undefined) };
}

async function main(): Promise<number> {
  const config = loadConfig();
  const dataDir = path.resolve(config.dataDir);
  const keyring = keyringFromConfig(config, await currentKey(config, dataDir));
  const database = await openDatabase(config, dataDir);
  const pool = new pg.Pool({ connectionString: database.url, max: 2, application_name: 'hookyard-reencrypt' });
  try {
    const result = await reencryptAll(pool, keyring, { log: (message) => process.stderr.write(`${message}\n`) });
    const out: string[] = [`Re-sealed under key ${keyring.current.id}: ${result.sources} sources, ${result.relays} relays.`];
    if (result.remaining === 0) {
      out.push('Every sealed value is under the current key: HOOKYARD_ENCRYPTION_KEYS_OLD can be removed once every process runs with it.');
    } else {
      out.push(`${result.remaining} rows still hold values under another key:`);
      for (const row of result.unreadable) out.push(`  ${row.table} ${row.id}: ${row.reason}`);
      if (result.unreadable.length > 0) out.push('Add the missing keys to HOOKYARD_ENCRYPTION_KEYS_OLD and run again.');
      if (result.remaining > result.unreadable.length) out.push('Some rows were locked by concurrent changes or written meanwhile: run again.');
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return result.remaining > 0 ? 1 : 0;
  } finally {
    await pool.end();
    await database.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof InvalidConfigError || error instanceof CannotRun) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 78;
  } else {
    process.stderr.write(`re-encryption failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
