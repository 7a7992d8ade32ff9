import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { ensureDatabase, startEmbeddedPostgres } from '../db/embedded-postgres.js';
import type { Logger } from '../log.js';
import { CannotRun } from './cannot-run.js';

export interface Database {
  url: string;
  /** The embedded cluster is in use (no DATABASE_URL). */
  embedded: boolean;
  /** Stops the embedded cluster when this process is the one to stop it. */
  close(): Promise<void>;
}

type DatabaseConfig = Pick<Config, 'databaseUrl' | 'embeddedFallbackDir'>;

/**
 * The app's database: DATABASE_URL, or the embedded cluster of a zero-setup install, created on
 * first start and stopped with the app.
 */
export async function appDatabase(config: DatabaseConfig, dataDir: string, log: Logger): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, close: async () => {} };
  const embedded = await startEmbeddedPostgres({ stateDir: dataDir, fallbackDir: config.embeddedFallbackDir, log: (line, level = 'info') => log[level](line) });
  await ensureDatabase(embedded.adminUrl, 'hookyard');
  return { url: embedded.url, embedded: true, close: () => embedded.stop() };
}

/**
 * A tool's database: DATABASE_URL, or the embedded database the app created (as the app finds
 * it), never a new one. Progress goes to `log` (stderr for a tool).
 */
export async function existingDatabase(config: DatabaseConfig, dataDir: string, log: (line: string) => void): Promise<Database> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, close: async () => {} };
  if (!existsSync(path.join(dataDir, 'postgres.json'))) {
    throw new CannotRun(`DATABASE_URL is not set and ${dataDir} holds no embedded database: set DATABASE_URL, or run where Hookyard runs`);
  }
  let startedHere = false;
  const embedded = await startEmbeddedPostgres({
    stateDir: dataDir,
    fallbackDir: config.embeddedFallbackDir,
    log: (line) => {
      // The only signal of whether the cluster was already up, e.g. under a running app.
      if (line.startsWith('starting ')) startedHere = true;
      log(line);
    },
  });
  // Stopping a cluster the running app uses would take the app down with us.
  return { url: embedded.url, embedded: true, close: async () => (startedHere ? embedded.stop() : undefined) };
}
