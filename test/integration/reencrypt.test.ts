import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, loadConfig } from '../../src/config.js';
import { keyringFromConfig } from '../../src/startup/keyring.js';
import { createKeyring, parseKey, type Key, type Keyring } from '../../src/crypto/keyring.js';
import { reencryptAll } from '../../src/crypto/reencrypt.js';
import { seal, sealedKeyId, unseal, UnsealError, type SealContext } from '../../src/crypto/seal.js';
import { sealedAt } from '../../src/crypto/sealed-at.js';
import { findIngestSource } from '../../src/sources/source-lookup.js';
import { createTestDatabase } from '../helpers/database.js';

const keyText = () => randomBytes(32).toString('base64');
const A = parseKey(keyText());
const B = parseKey(randomBytes(32).toString('hex'));
const C = parseKey(keyText());
const ring = (key: Key) => createKeyring(key);
const rotated = createKeyring(B, [A]);

let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await createTestDatabase(), max: 4 });
  // A relay's previous signing secret is being added by a migration of its own; whether or not
  // the template has it yet, a `*_sealed` column must be re-sealed without being listed.
  await pool.query('alter table relay add column if not exists previous_signing_secret_sealed text');
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  await pool.query('truncate source, relay cascade');
});

interface SourceValues {
  secrets: { keyring: Keyring; plain: string }[];
  password?: { keyring: Keyring; plain: string };
}

async function insertSource(values: SourceValues): Promise<string> {
  const id = randomUUID();
  const secrets = values.secrets.map((s, i) => ({ sealed: seal(s.keyring, s.plain, sealedAt.sourceSecrets({ id })), createdAt: `2026-01-0${i + 1}T00:00:00.000Z`, expiresAt: i === 0 ? null : '2030-01-01T00:00:00.000Z' }));
  await pool.query(
    `insert into source (id, name, slug, preset, secrets, basic_auth_username, basic_auth_password_sealed)
     values ($1, $2, $2, 'HMAC', $3::jsonb, $4, $5)`,
    [id, `s-${id}`, JSON.stringify(secrets), values.password ? 'user' : null, values.password ? seal(values.password.keyring, values.password.plain, sealedAt.sourcePassword({ id })) : null],
  );
  return id;
}

interface RelayValues {
  signing: { keyring: Keyring; plain: string };
  headers?: { keyring: Keyring; plain: string };
  previous?: { keyring: Keyring; plain: string };
}

async function insertRelay(values: RelayValues): Promise<string> {
  const id = randomUUID();
  const sealed = (column: string, v?: { keyring: Keyring; plain: string }) => (v ? seal(v.keyring, v.plain, { table: 'relay', column, id }) : null);
  await pool.query(
    `insert into relay (id, name, url, headers_sealed, signing_secret_sealed, signing_secret_hint, previous_signing_secret_sealed)
     values ($1, $2, 'https://example.com/hook', $3, $4, 'whsec_…', $5)`,
    [id, `r-${id}`, sealed('headers_sealed', values.headers), sealed('signing_secret_sealed', values.signing), sealed('previous_signing_secret_sealed', values.previous)],
  );
  return id;
}

/** Every sealed value in both tables, by `<table> <id> <column>[index]`. */
async function sealedValues(): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const sources = await pool.query<{ id: string; secrets: { sealed: string }[]; basic_auth_password_sealed: string | null }>('select id, secrets, basic_auth_password_sealed from source');
  for (const row of sources.rows) {
    row.secrets.forEach((s, i) => values.set(`source ${row.id} secrets[${i}]`, s.sealed));
    if (row.basic_auth_password_sealed) values.set(`source ${row.id} password`, row.basic_auth_password_sealed);
  }
  const relays = await pool.query<Record<string, string | null>>('select id, headers_sealed, signing_secret_sealed, previous_signing_secret_sealed from relay');
  for (const row of relays.rows) {
    for (const column of ['headers_sealed', 'signing_secret_sealed', 'previous_signing_secret_sealed']) {
      if (row[column]) values.set(`relay ${row.id} ${column}`, row[column]!);
    }
  }
  return values;
}

/** Where a value of sealedValues() lives, from its `<table> <id> <column>` label. */
function placeOf(label: string): SealContext {
  const [table, id, column] = label.split(' ') as ['source' | 'relay', string, string];
  return { table, id, column: column === 'password' ? 'basic_auth_password_sealed' : column.startsWith('secrets[') ? 'secrets' : column };
}

const opened = (values: Map<string, string>, keyring: Keyring) => new Map([...values].map(([where, sealed]) => [where, unseal(keyring, sealed, placeOf(where))]));

/** A value as sealed before values were bound to their place: `v1`, no associated data. */
function sealV1(key: Key, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', key.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join(':');
}

describe('re-encrypting under the current key', () => {
  it('re-seals every value not under the current key, keeps the rest verbatim, and a second run does nothing', async () => {
    for (let i = 0; i < 5; i++) {
      await insertSource({ secrets: [{ keyring: ring(A), plain: `new-${i}` }, { keyring: ring(A), plain: `old-${i}` }], password: i % 2 ? { keyring: ring(A), plain: `pw-${i}` } : undefined });
      await insertRelay({ signing: { keyring: ring(A), plain: `whsec_${i}` }, headers: i % 2 ? { keyring: ring(A), plain: `[{"name":"x-api-key","value":"k${i}"}]` } : undefined, previous: i === 3 ? { keyring: ring(A), plain: 'whsec_prev' } : undefined });
    }
    // Half rotated already (written by a process holding B): the B value must stay as it is.
    const mixed = await insertSource({ secrets: [{ keyring: ring(B), plain: 'already-b' }, { keyring: ring(A), plain: 'still-a' }] });
    const before = await sealedValues();
    const plaintext = opened(before, rotated);
    const untouchedB = before.get(`source ${mixed} secrets[0]`)!;

    const logs: string[] = [];
    const result = await reencryptAll(pool, rotated, { batchSize: 2, log: (m) => logs.push(m) });
    expect(result).toEqual({ sources: 6, relays: 5, remaining: 0, unreadable: [] });
    expect(logs.some((m) => m.includes(`under key ${B.id}`))).toBe(true);

    const after = await sealedValues();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const sealed of after.values()) expect(sealedKeyId(sealed)).toBe(B.id);
    // B alone opens everything now, to the same plaintext.
    expect(opened(after, ring(B))).toEqual(plaintext);
    expect(after.get(`source ${mixed} secrets[0]`)).toBe(untouchedB);
    expect([...after.keys()].filter((where) => where.endsWith('previous_signing_secret_sealed'))).toHaveLength(1);

    // The secrets' other fields survive the rewrite of the jsonb array.
    const { rows } = await pool.query<{ secrets: { createdAt: string; expiresAt: string | null }[] }>('select secrets from source where id = $1', [mixed]);
    expect(rows[0]!.secrets.map(({ createdAt, expiresAt }) => ({ createdAt, expiresAt }))).toEqual([
      { createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null },
      { createdAt: '2026-01-02T00:00:00.000Z', expiresAt: '2030-01-01T00:00:00.000Z' },
    ]);

    expect(await reencryptAll(pool, rotated, { batchSize: 2 })).toEqual({ sources: 0, relays: 0, remaining: 0, unreadable: [] });
    expect(await sealedValues()).toEqual(after);
  });

  it('never touches a row with a value under a key it does not hold, and reports it with the key id', async () => {
    const partly = await insertSource({ secrets: [{ keyring: ring(A), plain: 'a' }, { keyring: ring(C), plain: 'c' }] });
    const relay = await insertRelay({ signing: { keyring: ring(C), plain: 'whsec_c' }, headers: { keyring: ring(A), plain: '[]' } });
    const fine = await insertSource({ secrets: [{ keyring: ring(A), plain: 'ok' }] });
    const before = await sealedValues();

    const logs: string[] = [];
    const result = await reencryptAll(pool, rotated, { log: (m) => logs.push(m) });
    expect(result.sources).toBe(1);
    expect(result.relays).toBe(0);
    expect(result.remaining).toBe(2);
    expect(result.unreadable.map(({ table, id, keyId }) => ({ table, id, keyId }))).toEqual([
      { table: 'source', id: partly, keyId: C.id },
      { table: 'relay', id: relay, keyId: C.id },
    ]);
    expect(logs.filter((m) => m.includes(C.id))).toHaveLength(2);

    const after = await sealedValues();
    for (const [where, sealed] of before) {
      if (where.includes(fine)) expect(sealedKeyId(after.get(where)!)).toBe(B.id);
      // Even the openable A value beside the C one stays: a row moves whole or not at all.
      else expect(after.get(where)).toBe(sealed);
    }

    const again = await reencryptAll(pool, rotated);
    expect(again).toMatchObject({ sources: 0, relays: 0, remaining: 2 });
    // With C in the keyring the stragglers move too.
    expect(await reencryptAll(pool, createKeyring(B, [A, C]))).toEqual({ sources: 1, relays: 1, remaining: 0, unreadable: [] });
  });

  it('finishes in batches smaller than the table, and resumes after a run that died midway', async () => {
    for (let i = 0; i < 10; i++) await insertSource({ secrets: [{ keyring: ring(A), plain: `s${i}` }] });
    let batches = 0;
    const crashing = reencryptAll(pool, rotated, {
      batchSize: 3,
      log: () => {
        // Called once a batch has committed: dying here is a crash between two batches.
        if (++batches === 2) throw new Error('killed');
      },
    });
    await expect(crashing).rejects.toThrow('killed');
    const moved = [...(await sealedValues()).values()].filter((s) => sealedKeyId(s) === B.id);
    expect(moved).toHaveLength(6);

    expect(await reencryptAll(pool, rotated, { batchSize: 3 })).toEqual({ sources: 4, relays: 0, remaining: 0, unreadable: [] });
    const after = await sealedValues();
    expect([...opened(after, ring(B)).values()].sort()).toEqual([...Array(10).keys()].map((i) => `s${i}`).sort());
  });

  it('skips rows another transaction holds instead of waiting, and counts them as remaining', async () => {
    const locked = await insertSource({ secrets: [{ keyring: ring(A), plain: 'busy' }] });
    await insertSource({ secrets: [{ keyring: ring(A), plain: 'idle' }] });
    const other = await pool.connect();
    try {
      await other.query('begin');
      await other.query('select 1 from source where id = $1 for update', [locked]);
      expect(await reencryptAll(pool, rotated)).toEqual({ sources: 1, relays: 0, remaining: 1, unreadable: [] });
      await other.query('rollback');
    } finally {
      other.release();
    }
    expect(await reencryptAll(pool, rotated)).toEqual({ sources: 1, relays: 0, remaining: 0, unreadable: [] });
  });
});

describe('binding sealed values to their place', () => {
  it('rewrites values sealed without associated data (v1), even under the current key, bound to their row and column', async () => {
    const id = randomUUID();
    const v1 = { signing: sealV1(B, 'whsec_legacy'), headers: sealV1(A, '[]') };
    await pool.query(
      `insert into relay (id, name, url, headers_sealed, signing_secret_sealed, signing_secret_hint) values ($1, $2, 'https://example.com/hook', $3, $4, 'whsec_…')`,
      [id, `r-${id}`, v1.headers, v1.signing],
    );
    expect(await reencryptAll(pool, rotated)).toEqual({ sources: 0, relays: 1, remaining: 0, unreadable: [] });
    const after = await sealedValues();
    const signing = after.get(`relay ${id} signing_secret_sealed`)!;
    expect(signing.startsWith(`v2:${B.id}:`)).toBe(true);
    expect(unseal(rotated, signing, sealedAt.relaySigningSecret(id))).toBe('whsec_legacy');
    // Bound now: the same value does not open as another relay's.
    expect(() => unseal(rotated, signing, sealedAt.relaySigningSecret(randomUUID()))).toThrow(/copied from another row/);
    expect(await reencryptAll(pool, rotated)).toEqual({ sources: 0, relays: 0, remaining: 0, unreadable: [] });
  });

  it('seals a proxy URL stored in plaintext and keeps it shown without its password', async () => {
    const id = await insertRelay({ signing: { keyring: ring(B), plain: 'whsec_p' } });
    await pool.query(`update relay set proxy_url = 'http://squid:s3cret-pw@proxy.example.com:3128' where id = $1`, [id]);
    expect(await reencryptAll(pool, rotated)).toMatchObject({ relays: 1, remaining: 0 });
    const { rows } = await pool.query<{ proxy_url: string; proxy_url_sealed: string }>('select proxy_url, proxy_url_sealed from relay where id = $1', [id]);
    expect(rows[0]!.proxy_url).toBe('http://squid:***@proxy.example.com:3128/');
    expect(rows[0]!.proxy_url_sealed).not.toContain('s3cret');
    expect(unseal(rotated, rows[0]!.proxy_url_sealed, sealedAt.relayProxyUrl(id))).toBe('http://squid:s3cret-pw@proxy.example.com:3128');
  });
});

describe('HOOKYARD_ENCRYPTION_KEYS_OLD', () => {
  it('parses a comma-separated list of keys in either format', () => {
    const [a, b] = [keyText(), randomBytes(32).toString('hex')];
    expect(loadConfig({ HOOKYARD_ENCRYPTION_KEYS_OLD: `${a},${b}` }).encryptionKeysOld).toEqual([a, b]);
    expect(loadConfig({ HOOKYARD_ENCRYPTION_KEYS_OLD: ` ${a} , ${b} ` }).encryptionKeysOld).toEqual([a, b]);
    expect(loadConfig({}).encryptionKeysOld).toEqual([]);
  });

  it('names the variable and the position of a bad key, never the key text', () => {
    const bad = 'not-a-key-but-maybe-a-secret';
    try {
      loadConfig({ HOOKYARD_ENCRYPTION_KEYS_OLD: `${keyText()},${bad}` });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfigError);
      const problems = (error as InvalidConfigError).problems.join('\n');
      expect(problems).toMatch(/^HOOKYARD_ENCRYPTION_KEYS_OLD key 2 of 2 must be 32 bytes/m);
      expect(problems).not.toContain(bad);
    }
    expect(() => loadConfig({ HOOKYARD_ENCRYPTION_KEYS_OLD: `${keyText()},` })).toThrow(/HOOKYARD_ENCRYPTION_KEYS_OLD key 2 of 2/);
  });

  it('lets a process restarted on a new key open secrets sealed under the old one', async () => {
    const env = { HOOKYARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'), HOOKYARD_ENCRYPTION_KEYS_OLD: keyText() };
    const oldKey = parseKey(env.HOOKYARD_ENCRYPTION_KEYS_OLD);
    const id = await insertSource({ secrets: [{ keyring: ring(oldKey), plain: 'sealed-before-rotation' }] });
    const slug = `s-${id}`;
    const config = loadConfig(env);
    const keyring = keyringFromConfig(config, parseKey(config.encryptionKey!));

    expect(keyring.current.id).toBe(parseKey(env.HOOKYARD_ENCRYPTION_KEY).id);
    expect(sealedKeyId(seal(keyring, 'new value', sealedAt.sourceSecrets({ id })))).toBe(keyring.current.id);
    const source = await findIngestSource(pool, keyring, slug, new Date());
    expect(source).toMatchObject({ secrets: ['sealed-before-rotation'], secretError: null });

    // Without the old key the source reports an error instead of failing the process.
    const withoutOld = keyringFromConfig(loadConfig({ HOOKYARD_ENCRYPTION_KEY: env.HOOKYARD_ENCRYPTION_KEY }), keyring.current);
    const broken = await findIngestSource(pool, withoutOld, slug, new Date());
    expect(broken?.secrets).toEqual([]);
    expect(broken?.secretError).toContain(oldKey.id);
    const sealed = (await pool.query<{ secrets: { sealed: string }[] }>('select secrets from source where id = $1', [id])).rows[0]!.secrets[0]!.sealed;
    expect(() => unseal(withoutOld, sealed, sealedAt.sourceSecrets({ id }))).toThrow(UnsealError);
  });
});
