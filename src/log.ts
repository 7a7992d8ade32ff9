import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };
export type LogDestination = DestinationStream;

/** JSON lines on stdout (or `destination`); secrets never reach a log line because they are never passed in. */
export function createLogger(level: string, destination?: LogDestination): Logger {
  return pino({ level, base: { app: 'hookyard' } }, destination);
}
