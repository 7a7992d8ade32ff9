import { writeFileSync } from 'node:fs';
import pg from 'pg';

/**
 * Loaded with `--import` into a Hookyard process (NODE_OPTIONS), counts the statements it
 * sends by their first 80 characters and writes them to QUERY_COUNT_FILE when it exits:
 * statements per request, without touching the code under test.
 */
const counts = new Map<string, number>();
const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
  const first = args[0] as string | { text?: string; name?: string } | undefined;
  const text = typeof first === 'string' ? first : (first?.text ?? first?.name ?? '?');
  // Only the head of the text: ingest's statements are 2–3 KB, and normalising all of it was
  // the largest allocation of the process under measurement.
  const key = text.slice(0, 400).replace(/\s+/g, ' ').trim().replace(/\d+/g, 'N').slice(0, 80);
  counts.set(key, (counts.get(key) ?? 0) + 1);
  return original.apply(this, args);
} as typeof pg.Client.prototype.query;

export function snapshot(): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

process.on('SIGUSR2', () => {
  if (process.env.QUERY_COUNT_FILE) writeFileSync(process.env.QUERY_COUNT_FILE, JSON.stringify(snapshot(), null, 1));
});
