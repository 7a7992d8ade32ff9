import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { stopStartedApps } from './app.js';
import { withDatabase } from '../../src/db/database-url.js';


const created: string[] = [];

// Registered while the test file is collected (a hook registered inside beforeAll never
// runs): the file's databases are dropped when it ends, after the apps using them stopped.
afterAll(async () => {
  if (created.length === 0) return;
  await stopStartedApps();
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  for (const name of created.splice(0)) await client.query(`drop database if exists ${name} with (force)`).catch(() => {});
  await client.end();
});

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
