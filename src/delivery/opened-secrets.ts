import { createSecretKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Keyring } from '../crypto/keyring.js';
import { unseal, type SealContext } from '../crypto/seal.js';
import { whsecKey } from '../crypto/whsec.js';

/** Relays whose opened secrets one process keeps, and for how long after their last use. */
const MAX_ENTRIES = 1_000;
const TTL_MS = 60_000;

interface Opened {
  text: string;
  hmacKey?: KeyObject;
}

/**
 * A relay's sealed values (signing secrets, extra headers, proxy URL) opened once and kept for
 * its next deliveries, instead of an AES-GCM open and an HMAC key import per request. The entry
 * is keyed by the value's place (table, column, row) and the sealed text itself: a rotated or
 * re-sealed value is a new entry, and a value copied into another row never meets the entry of
 * the row it came from (it is opened, and refused, there). A value that fails to open is never
 * kept. Holding the opened values adds nothing an attacker with the process's memory lacks: the
 * keyring that opens them all is there anyway.
 */
export class OpenedSecrets {
  private readonly cache = new LRUCache<string, Opened>({ max: MAX_ENTRIES, ttl: TTL_MS, updateAgeOnGet: false });

  constructor(private readonly keyring: Keyring) {}

  /** The plaintext; throws UnsealError as `unseal` does. */
  text(sealed: string, context: SealContext): string {
    return this.entry(sealed, context).text;
  }

  /** The HMAC key of a sealed `whsec_` secret (Standard Webhooks: its base64-decoded part). */
  hmacKey(sealed: string, context: SealContext): KeyObject {
    const entry = this.entry(sealed, context);
    entry.hmacKey ??= createSecretKey(whsecKey(entry.text));
    return entry.hmacKey;
  }

  private entry(sealed: string, context: SealContext): Opened {
    const key = `${context.table}.${context.column}:${context.id}:${sealed}`;
    let entry = this.cache.get(key);
    if (!entry) {
      entry = { text: unseal(this.keyring, sealed, context) };
      this.cache.set(key, entry);
    }
    return entry;
  }
}
