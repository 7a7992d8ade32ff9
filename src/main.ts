import { startApp } from './app.js';
import { InvalidConfigError, loadConfig } from './config.js';
import { createProcessLogger } from './log.js';

/** Entry point: validate configuration, start the role, stop cleanly on SIGTERM / SIGINT. */
let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof InvalidConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(78);
}
const log = await createProcessLogger(config.logLevel);
try {
  const app = await startApp(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, 'Hookyard could not start');
  process.exit(1);
}
