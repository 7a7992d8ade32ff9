import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, stopClusterAt, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrate } from '../../src/db/migrate.js';
import { startBoss } from '../../src/queue/boss.js';
import { withDatabase } from '../../src/db/database-url.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}


const PREFIX = 'hookyard-test-pg-';

/** A killed run cannot stop its cluster: the next run does, for runs whose process is gone. */
async function sweepKilledRuns(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length).split('-')[0] : NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch {
      // that run is gone
    }
    const dir = path.join(tmpdir(), name);
    await stopClusterAt(path.join(dir, 'pg')).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One PostgreSQL per run: the embedded one (fsync off, 300 connections) unless DATABASE_URL
 * names a server, on which we only create databases. A migrated template (tables and
 * pg-boss's schema) is cloned by each test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedPostgres | undefined;
  let stateDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    await sweepKilledRuns();
    // A private dir of this run's own (fine for a test cluster, STACK.md); the cluster lives in
    // its pg/ subtree (a root run opens it 0711 for the postgres OS user) and goes with it.
    stateDir = await mkdtemp(path.join(tmpdir(), `${PREFIX}${process.pid}-`));
    embedded = await startEmbeddedPostgres({
      stateDir,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    adminUrl = embedded.adminUrl;
  }
  const templateDatabase = `hookyard_template_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    await admin.query(`create database ${templateDatabase}`);
    const templateUrl = withDatabase(adminUrl, templateDatabase);
    await migrate(templateUrl);
    const boss = await startBoss({ databaseUrl: templateUrl });
    await boss.stop({ graceful: false });
  } catch (error) {
    await admin.end().catch(() => {});
    await embedded?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    await admin.query(`drop database if exists ${templateDatabase} with (force)`).catch(() => {});
    await admin.end().catch(() => {});
    await embedded?.stop();
    // Outside the state dir only if it had to fall back (a closed temp dir): remove it there too.
    if (embedded) await rm(embedded.clusterDir, { recursive: true, force: true });
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  };
}
