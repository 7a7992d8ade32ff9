import path from 'node:path';
import pg from 'pg';
import { InvalidConfigError, loadConfig } from './config.js';
import { reencryptAll } from './crypto/reencrypt.js';
import { CannotRun } from './startup/cannot-run.js';
import { existingDatabase } from './startup/database.js';
import { existingKeyring } from './startup/keyring.js';

/**
 * `npm run reencrypt`: the last step of a key rotation. Once every process runs with the new
 * HOOKYARD_ENCRYPTION_KEY and the earlier keys in HOOKYARD_ENCRYPTION_KEYS_OLD, this re-seals
 * every stored secret under the new key, so the old keys can then be dropped.
 * Exits 0 when nothing is left under another key, 1 when something is (or the run failed),
 * 78 when it cannot run (configuration, no key, no database).
 */

async function main(): Promise<number> {
  const config = loadConfig();
  const dataDir = path.resolve(config.dataDir);
  const keyring = await existingKeyring(config, dataDir);
  const database = await existingDatabase(config, dataDir, (line) => process.stderr.write(`${line}\n`));
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
