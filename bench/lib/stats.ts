/** Percentiles of a latency sample, in ms, rounded to 0.01. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index]! * 100) / 100;
}

export function summarize(latencies: number[]): { p50_ms: number; p99_ms: number; count: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), count: sorted.length };
}

export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * To `digits` significant digits: a small positive figure (a ratio to a floor, a drain of a
 * tiny backlog) stays positive, where rounding to fixed places would print 0.
 */
export const significant = (value: number, digits = 3): number => Number(value.toPrecision(digits));
