import type { Pool } from 'pg';

/** MikroORM's pool parses timestamptz as text; GraphQL's DateTimeISO wants a Date. */
export function date(value: string | Date): Date;
export function date(value: string | Date | null): Date | null;
export function date(value: string | Date | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}

export function rows<T>(pool: Pool): (sql: string, params: unknown[]) => Promise<T[]> {
  return async (sql, params) => (await pool.query(sql, params)).rows as T[];
}
