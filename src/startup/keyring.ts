import type { Config } from '../config.js';
import { createKeyring, parseKey, type Key, type Keyring } from './keyring.js';

/**
 * The keyring a process runs with: `current` (HOOKYARD_ENCRYPTION_KEY or the development key
 * file) seals new values; HOOKYARD_ENCRYPTION_KEYS_OLD only opens values sealed before a
 * rotation, until `npm run reencrypt` has moved them to the current key.
 */
export function keyringFromConfig(config: Pick<Config, 'encryptionKeysOld'>, current: Key): Keyring {
  return createKeyring(current, config.encryptionKeysOld.map(parseKey));
}
