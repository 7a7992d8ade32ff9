import { Pool } from 'undici';
import { summarize } from './stats.js';

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

/**
 * Closed loop: `connections` keep-alive connections, each sending its next request as soon as
 * the previous answer arrives, for `durationMs`. The same generator measures every server, so
 * the ratios compare servers, not generators.
 */
export async function closedLoop(origin: string, options: { connections: number; durationMs: number; request: (n: number) => LoadRequest; okStatus?: number }): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let n = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const request = options.request(n++);
      const t0 = performance.now();
      try {
        const response = await pool.request({ method: 'POST', path: request.path, headers: request.headers, body: request.body });
        await response.body.dump();
        if (response.statusCode === (options.okStatus ?? 200)) ok++;
        else errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return { requests: latencies.length, ok, errors, rps: Math.round(ok / elapsed), ...pick(summarize(latencies)) };
}

/**
 * Open loop: requests start on a fixed schedule (`rate` per second) whatever the answers do,
 * so queueing shows up as latency instead of silently lowering the rate.
 */
export interface OpenLoopOptions {
  rate: number;
  durationMs: number;
  connections: number;
  request: (n: number) => LoadRequest;
  onSent?: (n: number, at: number) => void;
  /** Each answer with its body (read only when this is given), and the time it took. */
  onAnswer?: (n: number, answer: { status: number; headers: Record<string, unknown>; body: string; ms: number }) => void;
  /** Each request that got no answer (refused, reset, ...). */
  onError?: (n: number, error: Error & { code?: string }, ms: number) => void;
}

export async function openLoop(origin: string, options: OpenLoopOptions): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const total = Math.round((options.rate * options.durationMs) / 1000);
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const request = options.request(n);
    const t0 = performance.now();
    options.onSent?.(n, Date.now());
    inFlight.push(
      pool.request({ method: 'POST', path: request.path, headers: request.headers, body: request.body }).then(
        async (response) => {
          const body = options.onAnswer ? await response.body.text() : (await response.body.dump(), '');
          if (response.statusCode === 200) ok++;
          else errors++;
          const ms = performance.now() - t0;
          latencies.push(ms);
          options.onAnswer?.(n, { status: response.statusCode, headers: response.headers, body, ms });
        },
        (error: Error & { code?: string }) => {
          errors++;
          options.onError?.(n, error, performance.now() - t0);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return { requests: total, ok, errors, rps: Math.round(ok / elapsed), ...pick(summarize(latencies)) };
}

function pick(s: { p50_ms: number; p99_ms: number }): { p50_ms: number; p99_ms: number } {
  return { p50_ms: s.p50_ms, p99_ms: s.p99_ms };
}
