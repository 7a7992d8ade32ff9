import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; secrets never reach a log line because they are never passed in. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { app: 'hookyard' } });
}
