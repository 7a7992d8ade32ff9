import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseKey, type Key } from './keyring.js';

/** Where the development key lives: `<dataDir>/encryption-key`. */
export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, 'encryption-key');
}

/** The key in `file`; a file that holds no valid key is an error naming the file. ENOENT passes through. */
export async function readKeyFile(file: string): Promise<Key> {
  const text = await readFile(file, 'utf8');
  try {
    return parseKey(text);
  } catch (error) {
    throw new Error(`${file} ${(error as Error).message}`);
  }
}

/**
 * The development fallback for HOOKYARD_ENCRYPTION_KEY: `<dataDir>/encryption-key`, generated
 * on first start. Created with O_EXCL so two processes starting together agree on one key.
 */
export async function loadOrCreateKeyFile(dataDir: string): Promise<{ key: Key; created: boolean; file: string }> {
  const file = keyFilePath(dataDir);
  try {
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { key: parseKey(await readFile(file, 'utf8')), created: true, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { key: await readKeyFile(file), created: false, file };
}
