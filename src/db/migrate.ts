import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';

/** Any fixed 64-bit number; every Hookyard process agrees on it. */
const MIGRATION_LOCK = 0x486f6f6b79617264n; // "Hookyard"

/**
 * Applies pending migrations while holding a session advisory lock on a connection of its
 * own, so replicas that start together run them once and the others wait, then find nothing
 * left to do.
 */
export async function migrate(orm: MikroORM, databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    await orm.migrator.up();
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
    await client.end();
  }
}
