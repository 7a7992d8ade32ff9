import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { migrate } from '../../src/db/migrate.js';
import { ormConfig } from '../../src/db/orm-config.js';
import { startBoss } from '../../src/queue/boss.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
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
    stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-test-pg-'));
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
    const orm = await MikroORM.init({ ...ormConfig(templateUrl, 2), logger: () => {} });
    await migrate(orm, templateUrl);
    await orm.close();
    const boss = await startBoss({ databaseUrl: templateUrl });
    await boss.stop({ graceful: false });
  } catch (error) {
    await admin.end().catch(() => {});
    await embedded?.stop();
    throw error;
  }
  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    await admin.query(`drop database if exists ${templateDatabase} with (force)`).catch(() => {});
    await admin.end().catch(() => {});
    await embedded?.stop();
    if (stateDir) {
      const state = stateDir;
      await rm(state, { recursive: true, force: true });
    }
  };
}
