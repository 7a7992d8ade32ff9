import type { Config } from '../config.js';
import { keyFilePath, loadOrCreateKeyFile, readKeyFile } from '../crypto/encryption-key-file.js';
import { createKeyring, parseKey, type Key, type Keyring } from '../crypto/keyring.js';
import type { Logger } from '../log.js';
import { CannotRun } from './cannot-run.js';

/**
 * The keyring a process runs with: `current` (HOOKYARD_ENCRYPTION_KEY or the development key
 * file) seals new values; HOOKYARD_ENCRYPTION_KEYS_OLD only opens values sealed before a
 * rotation, until `npm run reencrypt` has moved them to the current key.
 */
export function keyringFromConfig(config: Pick<Config, 'encryptionKeysOld'>, current: Key): Keyring {
  return createKeyring(current, config.encryptionKeysOld.map(parseKey));
}

type KeyConfig = Pick<Config, 'encryptionKey' | 'encryptionKeysOld'>;

/** The app's keyring: without HOOKYARD_ENCRYPTION_KEY, the development key file, generated on first start. */
export async function appKeyring(config: KeyConfig, dataDir: string, log: Logger): Promise<Keyring> {
  if (config.encryptionKey) return keyringFromConfig(config, parseKey(config.encryptionKey));
  const { key, created, file } = await loadOrCreateKeyFile(dataDir);
  if (created) log.warn({ file }, 'HOOKYARD_ENCRYPTION_KEY is not set: generated a development key (set the variable in production)');
  else log.info({ file }, 'HOOKYARD_ENCRYPTION_KEY is not set: using the development key file');
  return keyringFromConfig(config, key);
}

/** A tool's keyring: the key the app runs with, never generated here (a fresh key would open nothing). */
export async function existingKeyring(config: KeyConfig, dataDir: string): Promise<Keyring> {
  if (config.encryptionKey) return keyringFromConfig(config, parseKey(config.encryptionKey));
  const file = keyFilePath(dataDir);
  let key: Key;
  try {
    key = await readKeyFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CannotRun(`HOOKYARD_ENCRYPTION_KEY is not set and ${file} does not exist: set the key Hookyard runs with`);
    // A file that holds no key; an unreadable one (EACCES, ...) is a failure, not a setup problem.
    if (code === undefined) throw new CannotRun((error as Error).message);
    throw error;
  }
  return keyringFromConfig(config, key);
}
