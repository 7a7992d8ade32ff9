import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { stopStartedApps } from './app.js';
import { withDatabase } from '../../src/db/database-url.js';


const created: string[] = [];

/** The file's databases dropped, after the apps using them stopped: per-file.ts calls it when a file ends. */
export async function dropCreatedDatabases(): Promise<void> {
  if (created.length === 0) return;
  await stopStartedApps();
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  for (const name of created.splice(0)) {
    await untilDisconnected(client, name);
    await client.query(`drop database if exists ${name} with (force)`).catch(() => {});
  }
  await client.end();
}

/**
 * `pool.end()` resolves before its sockets have closed: a forced drop then sends those
 * clients a FATAL they no longer listen for, an uncaught error that fails the run. Wait (a
 * few seconds at most) for the file's connections to go; the drop forces any that remain.
 */
async function untilDisconnected(client: pg.Client, database: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [database]);
    if (rows[0]!.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A database of this test file's own, cloned from the migrated template and dropped when the
 * file ends, so files run in parallel without seeing each other's rows or jobs.
 */
export async function createTestDatabase(): Promise<string> {
  const adminUrl = inject('adminUrl');
  const template = inject('templateDatabase');
  const name = `hookyard_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Two files cloning at the same instant collide ("source database is being accessed").
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end();
  }
  created.push(name);
  return withDatabase(adminUrl, name);
}
