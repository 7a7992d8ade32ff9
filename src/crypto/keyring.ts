import { createHash } from 'node:crypto';

/** An AES-256 key and its id (first 8 hex of the key's SHA-256), stored beside every sealed value. */
export interface Key {
  id: string;
  bytes: Buffer;
}

/** The current key seals new values; older keys only open values sealed before a rotation. */
export interface Keyring {
  current: Key;
  byId: ReadonlyMap<string, Key>;
}

const BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const HEX = /^[0-9a-fA-F]{64}$/;

/** Parses a 32-byte key given as standard base64 or 64 hex characters. */
export function parseKey(text: string): Key {
  const trimmed = text.trim();
  let bytes: Buffer;
  if (HEX.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (BASE64.test(trimmed)) bytes = Buffer.from(trimmed, 'base64');
  else throw new Error('must be 32 bytes as standard base64 (44 characters) or 64 hex characters');
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
}

export function createKeyring(current: Key, older: Key[] = []): Keyring {
  const byId = new Map<string, Key>();
  for (const key of [current, ...older]) byId.set(key.id, key);
  return { current, byId };
}
