import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../helpers/process.js';

/**
 * The benchmark harness on tiny numbers, so it cannot rot: the same code `npm run bench`
 * runs, writing to the system temp dir (never the committed results).
 */
describe('bench --smoke', () => {
  it('measures every figure next to its baseline and writes the results file', async () => {
    const out = path.join(tmpdir(), `hookyard-bench-smoke-${process.pid}.json`);
    await promisify(execFile)(process.execPath, ['dist/bench/run.js', '--smoke', '--out', out], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: inject('adminUrl') },
      timeout: 120_000,
    });
    const results = JSON.parse(await readFile(out, 'utf8'));
    await rm(out, { force: true });
    expect(results.mode).toBe('smoke');
    for (const key of ['http_floor', 'pg_floor', 'send_floor', 'ingest', 'e2e', 'delivery', 'live', 'scale', 'machine', 'at']) expect(results).toHaveProperty(key);
    expect(results.http_floor.rps).toBeGreaterThan(0);
    expect(results.pg_floor.commits_per_s).toBeGreaterThan(0);
    expect(results.send_floor.rps).toBeGreaterThan(0);
    expect(results.ingest.rps).toBeGreaterThan(0);
    expect(results.ingest.ratio_pg_floor).toBeGreaterThanOrEqual(0);
    expect(results.ingest.p99_ms_half_load).toBeGreaterThan(0);
    expect(results.e2e.p50_ms).toBeGreaterThan(0);
    expect(results.e2e.p99_ms).toBeGreaterThanOrEqual(results.e2e.p50_ms);
    expect(results.delivery.fanout_1.per_s).toBeGreaterThan(0);
    // A ratio rounded to 3 places: tiny numbers on a loaded machine may round to 0.
    expect(results.delivery.ratio_send_floor).toBeGreaterThanOrEqual(0);
    expect(results.delivery.fanout_10.deliveries).toBeGreaterThan(0);
    expect(results.live.updates).toBeGreaterThan(0);
    expect(results.live.p99_ms).toBeGreaterThanOrEqual(0);
    expect(results.scale.p50_ms).toBeGreaterThan(0);
  });
});
