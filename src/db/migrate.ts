import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ormConfig } from './orm-config.js';

/** Any fixed 64-bit number; every Hookyard process agrees on it. */
const MIGRATION_LOCK = 0x486f6f6b79617264n; // "Hookyard"

/**
 * Applies pending migrations while holding a session advisory lock on a connection of its
 * own, so replicas that start together run them once and the others wait, then find nothing
 * left to do. Migrations get an ORM of their own: the app's pools carry a statement timeout
 * (API reads) that a long migration must not hit.
 */
export async function migrate(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hookyard-migrate' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    const orm = await MikroORM.init({ ...ormConfig(databaseUrl, 1), logger: () => {} });
    try {
      await orm.migrator.up();
    } finally {
      await orm.close();
    }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
    await client.end();
  }
}
