import pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import type { Keyring } from './keyring.js';
import { withoutPassword } from './redact.js';
import { currentSealPattern, isCurrentSeal, seal, unseal, UnsealError } from './seal.js';
import { sealedAt } from './sealed-at.js';
import { NIL_UUID } from '../ids.js';

export interface ReencryptOptions {
  /** Rows per transaction (default 200): short transactions keep row locks brief for the app. */
  batchSize?: number;
  log?: (message: string) => void;
}

/** A row left as it was because one of its values cannot be opened with the keyring. */
export interface UnreadableRow {
  table: SealedTable;
  id: string;
  /** The key the value names (`undefined` when it is not a sealed value at all). */
  keyId: string | undefined;
  reason: string;
}

export interface ReencryptResult {
  /** Rows re-sealed in this run. */
  sources: number;
  relays: number;
  /** Rows that, after the run, still hold a value under another key (unreadable, or locked meanwhile). */
  remaining: number;
  unreadable: UnreadableRow[];
}

type SealedTable = 'source' | 'relay';

interface TableShape {
  table: SealedTable;
  /** Nullable text columns holding one sealed value each. */
  textColumns: string[];
  /** A jsonb array of `{ sealed, createdAt, expiresAt }` (source.secrets). */
  secretsColumn?: string;
}

type Row = { id: string } & Record<string, unknown>;

/** Keyset start: every uuid sorts after it. */
const BEFORE_ALL = NIL_UUID;

/**
 * Sealed text columns are found by their `_sealed` suffix rather than listed here: a sealed
 * column added later (say, a relay's previous signing secret) is then re-sealed too, instead
 * of being forgotten and lost once the old key is dropped. `source.secrets` is the one sealed
 * value that does not follow the naming.
 */
async function tableShapes(pool: pg.Pool): Promise<TableShape[]> {
  const { rows } = await pool.query<{ table_name: SealedTable; column_name: string }>(
    `select table_name, column_name from information_schema.columns
     where table_schema = current_schema() and table_name in ('source', 'relay')
       and data_type = 'text' and column_name like '%\\_sealed'
     order by table_name desc, ordinal_position`,
  );
  const columns = (table: SealedTable) => rows.filter((row) => row.table_name === table).map((row) => row.column_name);
  return [
    { table: 'source', textColumns: columns('source'), secretsColumn: 'secrets' },
    { table: 'relay', textColumns: columns('relay') },
  ];
}

/** SQL true for a row holding any value not matching `$1` (`v2:<id>:%`: current key, bound to its place). */
function stalePredicate(shape: TableShape): string {
  const parts = shape.textColumns.map((column) => {
    const name = pg.escapeIdentifier(column);
    return `(${name} is not null and ${name} not like $1)`;
  });
  if (shape.secretsColumn) {
    parts.push(`exists (select 1 from jsonb_array_elements(${pg.escapeIdentifier(shape.secretsColumn)}) s where s->>'sealed' not like $1)`);
  }
  return parts.length > 0 ? parts.join(' or ') : 'false';
}

/** The row's new column values in `textColumns, secretsColumn` order; throws UnsealError if any value cannot be opened. */
function resealRow(keyring: Keyring, shape: TableShape, row: Row): unknown[] {
  // A value under an older key, or sealed before values were bound to their place (`v1`),
  // is opened and sealed again, bound to the row and column it is in.
  const reseal = (sealed: string, column: string) => {
    if (isCurrentSeal(sealed, keyring.current.id)) return sealed;
    const where = { table: shape.table, column, id: row.id };
    return seal(keyring, unseal(keyring, sealed, where), where);
  };
  const values: unknown[] = shape.textColumns.map((column) => {
    const value = row[column] as string | null;
    return value === null ? null : reseal(value, column);
  });
  if (shape.secretsColumn) {
    const column = shape.secretsColumn;
    const secrets = row[column] as { sealed: string }[];
    values.push(JSON.stringify(secrets.map((secret) => ({ ...secret, sealed: reseal(secret.sealed, column) }))));
  }
  return values;
}

async function reencryptTable(pool: pg.Pool, keyring: Keyring, shape: TableShape, batchSize: number, log: (message: string) => void, unreadable: UnreadableRow[]): Promise<number> {
  const table = pg.escapeIdentifier(shape.table);
  const columns = [...shape.textColumns, ...(shape.secretsColumn ? [shape.secretsColumn] : [])];
  const select = `select id, ${columns.map((c) => pg.escapeIdentifier(c)).join(', ')} from ${table}
    where (${stalePredicate(shape)}) and id > $2 order by id limit $3 for update skip locked`;
  const update = `update ${table} set ${columns
    .map((c, i) => `${pg.escapeIdentifier(c)} = $${i + 2}${c === shape.secretsColumn ? '::jsonb' : ''}`)
    .join(', ')} where id = $1`;
  const currentPattern = currentSealPattern(keyring.current.id);

  let after = BEFORE_ALL;
  let resealed = 0;
  for (;;) {
    // Unsealing and re-sealing happen under the row lock and commit with the batch, so a row
    // is either wholly under the current key or untouched; a crash loses only the open batch.
    const batch = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<Row>(select, [currentPattern, after, batchSize]);
      let done = 0;
      for (const row of rows) {
        let values: unknown[];
        try {
          values = resealRow(keyring, shape, row);
        } catch (error) {
          if (!(error instanceof UnsealError)) throw error;
          unreadable.push({ table: shape.table, id: row.id, keyId: error.keyId, reason: error.message });
          log(`${shape.table} ${row.id} left as it was: ${error.message}`);
          continue;
        }
        await client.query(update, [row.id, ...values]);
        done++;
      }
      return { size: rows.length, done, last: rows.at(-1)?.id };
    });
    resealed += batch.done;
    if (batch.done > 0) log(`${shape.table}: re-sealed ${batch.done} rows under key ${keyring.current.id}`);
    // Rows locked by someone else were skipped, not waited for: the final count reports them.
    if (batch.size < batchSize || batch.last === undefined) return resealed;
    after = batch.last;
  }
}

/**
 * Re-seals every sealed value of sources and relays that is not under the keyring's current
 * key, in batches ordered by id. Only rows still holding a value under another key are ever
 * selected, so an interrupted run is simply run again. A row with a value the keyring cannot
 * open is never touched: it is listed in `unreadable` and counted in `remaining`.
 */
export async function reencryptAll(pool: pg.Pool, keyring: Keyring, options: ReencryptOptions = {}): Promise<ReencryptResult> {
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const log = options.log ?? (() => {});
  const unreadable: UnreadableRow[] = [];
  const counts: Record<SealedTable, number> = { source: 0, relay: 0 };
  counts.relay += await sealPlaintextProxyUrls(pool, keyring);
  let remaining = 0;
  for (const shape of await tableShapes(pool)) {
    counts[shape.table] += await reencryptTable(pool, keyring, shape, batchSize, log, unreadable);
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${pg.escapeIdentifier(shape.table)} where ${stalePredicate(shape)}`, [
      currentSealPattern(keyring.current.id),
    ]);
    remaining += rows[0]!.n;
  }
  return { sources: counts.source, relays: counts.relay, remaining, unreadable };
}

/**
 * Relay proxy URLs stored before they were sealed: each is sealed into `proxy_url_sealed` and
 * `proxy_url` keeps it with the password masked. Run at every start (a migration holds no key)
 * and by `npm run reencrypt`; rows locked meanwhile are left for the next run. Returns how
 * many were sealed.
 */
export async function sealPlaintextProxyUrls(pool: pg.Pool, keyring: Keyring): Promise<number> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string; proxy_url: string }>(
      'select id, proxy_url from relay where proxy_url is not null and proxy_url_sealed is null for update skip locked',
    );
    for (const row of rows) {
      await client.query('update relay set proxy_url = $2, proxy_url_sealed = $3 where id = $1', [
        row.id, withoutPassword(row.proxy_url), seal(keyring, row.proxy_url, sealedAt.relayProxyUrl(row.id)),
      ]);
    }
    return rows.length;
  });
}
