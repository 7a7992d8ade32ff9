import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger, type LogDestination } from '../../src/log.js';

const started: App[] = [];

/** Every app the file started, stopped and its data dir removed: per-file.ts calls it when a file ends. */
export async function stopStartedApps(): Promise<void> {
  await Promise.all(started.splice(0).map((app) => app.stop()));
}

export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');
export const TEST_ADMIN_TOKEN = `test-admin-${randomBytes(12).toString('hex')}`;

/**
 * Hookyard in this process on a free port against the given database, stopped when the file
 * ends. `env` overrides the variables a test cares about (role, retry poll, ...); `logDestination`
 * receives the app's log lines (stdout otherwise).
 */
export async function startTestApp(databaseUrl: string, env: Record<string, string> = {}, options: AppOptions = {}, logDestination?: LogDestination): Promise<App> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hookyard-test-data-'));
  const config = loadConfig({
    PORT: '0',
    DATABASE_URL: databaseUrl,
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    HOOKYARD_DB_POOL_SIZE: '6',
    HOOKYARD_API_DB_CONNECTIONS: '2',
    // Test receivers listen on 127.0.0.1; the SSRF tests turn this off again.
    HOOKYARD_ALLOW_PRIVATE_TARGETS: 'true',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    ...env,
  });
  const app = await startApp(config, createLogger(config.logLevel, logDestination), { superviseIntervalSeconds: 2, rejectedLogFlushMs: 100, ...options });
  let stopped = false;
  const stop = app.stop;
  app.stop = async () => {
    if (stopped) return;
    stopped = true;
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  started.push(app);
  return app;
}
