import { afterAll } from 'vitest';
import { stopStartedApps } from './app.js';
import { dropCreatedDatabases } from './database.js';

/**
 * Run before each test file (vitest `setupFiles`), so its hook belongs to that file even though
 * the workers are reused across files (`isolate: false`) and the helpers' modules load once per
 * worker: when the file ends, the apps it started stop and the databases it created go.
 */
afterAll(async () => {
  await stopStartedApps();
  await dropCreatedDatabases();
});
