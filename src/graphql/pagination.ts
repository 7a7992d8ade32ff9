import { AppError } from '../errors.js';
import { UUID_PATTERN } from '../ids.js';

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;

/** Where a page ends: the row's exact PostgreSQL timestamp (as text, no precision lost) and id. */
export interface Keyset {
  time: string;
  id: string;
}


/** Cursors are opaque base64url; inside, `<timestamptz text>|<uuid>`. */
export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(`${keyset.time}|${keyset.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.lastIndexOf('|');
  const time = text.slice(0, bar);
  const id = text.slice(bar + 1);
  if (bar < 1 || !UUID_PATTERN.test(id) || Number.isNaN(Date.parse(time.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')))) {
    throw new AppError('BAD_USER_INPUT', 'after is not a cursor this API issued', { field: 'after' });
  }
  return { time, id };
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw new AppError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE}`, { field: 'first' });
  }
  return first;
}

/** A WHERE clause built from parts, with numbered parameters. */
export class Where {
  private readonly parts: string[] = [];
  readonly params: unknown[] = [];

  add(sql: (param: (value: unknown) => string) => string): this {
    this.parts.push(sql((value) => {
      this.params.push(value);
      return `$${this.params.length}`;
    }));
    return this;
  }

  toString(): string {
    return this.parts.length === 0 ? '' : `where ${this.parts.join(' and ')}`;
  }
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Newest first, keyset-paginated on (time, id): a row inserted while a client pages never
 * shifts the pages it has not read yet, so there is no gap and no repeat.
 */
export async function keysetPage<Row extends { id: string; cursor_time: string }, T>(
  query: (sql: string, params: unknown[]) => Promise<Row[]>,
  options: { from: string; alias: string; timeColumn: string; select: string; where: Where; first?: number | null; after?: string | null; map: (row: Row) => T },
): Promise<Page<T>> {
  const limit = pageSize(options.first);
  const { where, alias, timeColumn } = options;
  if (options.after) {
    const keyset = decodeCursor(options.after);
    where.add((p) => `(${timeColumn}, ${alias}.id) < (${p(keyset.time)}::timestamptz, ${p(keyset.id)}::uuid)`);
  }
  const sql = `select ${options.select}, ${timeColumn}::text as cursor_time from ${options.from} ${where}
    order by ${timeColumn} desc, ${alias}.id desc limit ${limit + 1}`;
  const rows = await query(sql, where.params);
  const hasNextPage = rows.length > limit;
  const edges = rows.slice(0, limit).map((row) => ({ cursor: encodeCursor({ time: row.cursor_time, id: row.id }), node: options.map(row) }));
  return { edges, pageInfo: { hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
}
