import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../helpers/process.js';

/**
 * Every figure the results file carries, by section: the table's and the ones beside them
 * (the e2e figures per rate are checked by walking, since their keys are the plan's rates).
 */
const FIGURES: Record<string, string[]> = {
  machine: ['cpus', 'memory_gib'],
  http_floor: ['rps', 'p50_ms', 'p99_ms', 'connections'],
  pg_floor: ['commits_per_s', 'connections'],
  send_floor: ['rps', 'p50_ms', 'p99_ms'],
  peer_graphile: ['deliveries', 'seconds', 'per_s', 'concurrency', 'wait_sample.samples', 'cpu_us_per_delivery.total'],
  peer_pgboss: ['deliveries', 'seconds', 'per_s', 'concurrency', 'batch_size', 'local_concurrency'],
  peer_ingest: ['rps', 'p50_ms', 'p99_ms', 'errors', 'connections'],
  ingest: ['rps', 'p50_ms', 'p99_ms', 'half_load_rate', 'p99_ms_half_load', 'ratio_pg_floor', 'ratio_http_floor', 'ratio_peer_ingest'],
  e2e: ['rate', 'p50_ms', 'p99_ms'],
  'delivery.fanout_1': ['deliveries', 'relays', 'seconds', 'per_s', 'rss_start_mib', 'rss_end_mib', 'rss_max_mib', 'ratio_send_floor', 'ratio_peer_graphile', 'workers', 'heap_start_mib', 'heap_end_mib', 'heap_growth', 'wait_sample.samples', 'cpu_us_per_delivery.total'],
  'delivery.fanout_10': ['deliveries', 'relays', 'seconds', 'per_s', 'rss_start_mib', 'rss_end_mib', 'rss_max_mib', 'ratio_send_floor', 'ratio_peer_graphile'],
  delivery: ['ratio_send_floor', 'ratio_peer_graphile', 'ratio_peer_pgboss', 'heap_growth', 'rss_max_mib'],
  live: ['subscribers', 'updates', 'p50_ms', 'p99_ms'],
  scale: ['rows', 'events_p50_ms', 'deliveries_p50_ms', 'p50_ms'],
  cost: ['events', 'rate', 'wal_bytes_per_event', 'wal_syncs_per_event', 'rows_written_per_event', 'storage_bytes_per_event', 'job_bytes_per_event', 'cpu_us_per_event.hookyard', 'cpu_us_per_event.postgres', 'cpu_us_per_event.total'],
  // The smoke plan drains with 1 and 2 workers (4 runs the same code: full and quick runs only).
  scale_out: ['backlog', 'workers_1', 'workers_2', 'ingest_api_1', 'ingest_api_2'],
  // A smoke drain is over in a few clock ticks: its CPU share may round to nothing (and is then left out).
  ...Object.fromEntries(['workers_1', 'workers_2'].map((c) => [`scale_out.configurations.${c}`, ['per_s', 'wait_sample.samples']])),
  ...Object.fromEntries(['ingest_api_1', 'ingest_api_2'].map((c) => [`scale_out.configurations.${c}`, ['rps', 'wait_sample.samples', 'wait_sample.cpu_cores.hookyard']])),
};

/** Counts of failures: present, and zero on a working relay. */
const FAILURES = new Set(['errors', 'lost']);

/**
 * CPU per delivery of a smoke drain, over in a few clock ticks, and WAL flushes on the test
 * cluster (fsync off): present, but they may be nothing.
 */
const mayRoundToZero = (name: string) => name.endsWith('.cpu_us_per_delivery.total') || name === 'cost.wal_syncs_per_event';

/** Every number in the results with its dotted path. */
function numbers(value: unknown, at = ''): [string, number][] {
  if (typeof value === 'number') return [[at, value]];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => numbers(inner, at ? `${at}.${key}` : key));
}

/**
 * The benchmark harness on tiny numbers, so it cannot rot: the same code `npm run bench`
 * runs, writing to the system temp dir (never the committed results).
 */
describe('bench --smoke', () => {
  // Ten sections, the scale-out one starting seven Hookyard processes: over a minute on a loaded box.
  // Above the suite's 60 s: about a dozen processes start (Hookyard per section, the peers,
  // their schemas), each seconds long on a loaded two-core box. Alone it takes about 65 s; within
  // the full suite 130–150 s (2026-11-30), so the bound leaves room above that.
  it('measures every figure, each present and positive, and writes the results file', { timeout: 250_000 }, async () => {
    const out = path.join(tmpdir(), `hookyard-bench-smoke-${process.pid}.json`);
    await promisify(execFile)(process.execPath, ['dist/bench/run.js', '--smoke', '--out', out], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: inject('adminUrl') },
      timeout: 240_000,
    });
    const results: unknown = JSON.parse(await readFile(out, 'utf8'));
    await rm(out, { force: true });
    expect(results).toMatchObject({ mode: 'smoke', at: expect.any(String), machine: { node: expect.any(String), postgres: expect.any(String) } });

    const found = new Map(numbers(results));
    const missing = Object.entries(FIGURES).flatMap(([section, keys]) => keys.map((key) => `${section}.${key}`)).filter((name) => !found.has(name));
    expect(missing).toEqual([]);
    // Each e2e rate has its own latencies, count and losses.
    const rate = found.get('e2e.rate');
    for (const key of ['p50_ms', 'p99_ms', 'count', 'lost']) expect(found.has(`e2e.${rate}.${key}`), `e2e.${rate}.${key}`).toBe(true);
    expect(found.has('ingest.errors')).toBe(true);

    const notPositive = [...found].filter(([name, value]) => !FAILURES.has(name.split('.').at(-1)!) && !(Number.isFinite(value) && (value > 0 || (value === 0 && mayRoundToZero(name)))));
    expect(notPositive).toEqual([]);
    const failures = [...found].filter(([name, value]) => FAILURES.has(name.split('.').at(-1)!) && value !== 0);
    expect(failures).toEqual([]);
    expect(found.get('e2e.p99_ms')).toBeGreaterThanOrEqual(found.get('e2e.p50_ms')!);

    // Each configuration's top waits, and every limit the bench raised, with its value and reason.
    const configurations = (results as { scale_out: { configurations: Record<string, { wait_sample: { waits: object } }> } }).scale_out.configurations;
    for (const [name, c] of Object.entries(configurations)) expect(Object.keys(c.wait_sample.waits).length, name).toBeGreaterThan(0);
    const limits = (results as { limits_raised: Record<string, { value: string; why: string }> }).limits_raised;
    expect(limits).toMatchObject({ HOOKYARD_WS_SOCKETS_PER_ADDRESS: { value: '1000', why: expect.any(String) } });
  });
});
