import type { DrainFigures } from './delivery.js';
import type { LIMITS_RAISED } from './lib/limits.js';
import { significant } from './lib/stats.js';
import type { ScaleOutFigures } from './scale-out.js';

/** The peers (bench/peers/) and the headline figures' ratios to them. */
interface PeerFigures {
  peer_graphile: { per_s: number; cpu_us_per_delivery: Record<string, number> };
  peer_pgboss: { per_s: number };
  peer_ingest: { rps: number };
  ingest: { ratio_peer_ingest: number };
  delivery: { ratio_peer_graphile: number; ratio_peer_pgboss: number; fanout_10: { ratio_peer_graphile: number } };
}

/** The printed table: each figure beside its baseline and its target; under it the wait samples and the limits raised. */
export function printTable(r: PeerFigures & {
  http_floor: { rps: number };
  pg_floor: { commits_per_s: number };
  send_floor: { rps: number };
  ingest: { rps: number; p99_ms_half_load: number; ratio_pg_floor: number; ratio_http_floor: number };
  e2e: { rate: number; p50_ms: number; p99_ms: number };
  delivery: { fanout_1: { per_s: number; ratio_send_floor: number; rss_start_mib: number; rss_end_mib: number; cpu_us_per_delivery: Record<string, number> }; fanout_10: { per_s: number; ratio_send_floor: number; rss_start_mib: number; rss_end_mib: number } };
  live: { p99_ms: number; subscribers: number };
  scale: { rows: number; events_p50_ms: number; deliveries_p50_ms: number };
  scale_out: ScaleOutFigures;
  limits_raised: typeof LIMITS_RAISED;
}): void {
  const rows: [string, string, string, string][] = [
    ['http_floor', `${r.http_floor.rps} req/s`, 'baseline', ''],
    ['pg_floor', `${r.pg_floor.commits_per_s} commits/s`, 'baseline', ''],
    ['send_floor', `${r.send_floor.rps} req/s`, 'baseline', ''],
    ['peer_graphile', `${r.peer_graphile.per_s} deliveries/s`, 'peer', ''],
    ['peer_pgboss', `${r.peer_pgboss.per_s} deliveries/s`, 'peer', ''],
    ['peer_ingest', `${r.peer_ingest.rps} req/s`, 'peer', ''],
    ['ingest (role api)', `${r.ingest.rps} req/s`, `${r.ingest.ratio_pg_floor} × pg_floor, ${r.ingest.ratio_http_floor} × http_floor`, '≥ 1.0 × pg_floor'],
    ['ingest vs peer_ingest', '', `${r.ingest.ratio_peer_ingest} × peer_ingest`, '≥ 1.0 × peer_ingest'],
    ['ingest p99 at half load', `${r.ingest.p99_ms_half_load} ms`, '', '≤ 25 ms'],
    [`e2e at ${r.e2e.rate}/s`, `p50 ${r.e2e.p50_ms} ms, p99 ${r.e2e.p99_ms} ms`, '', 'p50 ≤ 10 ms, p99 ≤ 50 ms'],
    ['delivery, fan-out 1', `${r.delivery.fanout_1.per_s}/s, RSS ${r.delivery.fanout_1.rss_start_mib}→${r.delivery.fanout_1.rss_end_mib} MiB`, `${r.delivery.fanout_1.ratio_send_floor} × send_floor`, '≥ 0.3 × send_floor'],
    ['delivery, fan-out 10', `${r.delivery.fanout_10.per_s}/s, RSS ${r.delivery.fanout_10.rss_start_mib}→${r.delivery.fanout_10.rss_end_mib} MiB`, `${r.delivery.fanout_10.ratio_send_floor} × send_floor`, '≥ 0.3 × send_floor'],
    ['delivery vs peer_graphile', '', `fan-out 1 ${r.delivery.ratio_peer_graphile} ×, fan-out 10 ${r.delivery.fanout_10.ratio_peer_graphile} × peer_graphile`, '≥ 0.6 × peer_graphile (goal 1.0 ×)'],
    ['CPU per delivery (µs), fan-out 1', `${cpuEntries(r.delivery.fanout_1.cpu_us_per_delivery)}`, `peer_graphile ${cpuEntries(r.peer_graphile.cpu_us_per_delivery)}`, ''],
    ['delivery vs peer_pgboss', '', `fan-out 1 ${r.delivery.ratio_peer_pgboss} × peer_pgboss`, ''],
    [`live lag (${r.live.subscribers} subscribers)`, `p99 ${r.live.p99_ms} ms`, '', '≤ 50 ms'],
    [`scale (${r.scale.rows} rows)`, `events p50 ${r.scale.events_p50_ms} ms, deliveries p50 ${r.scale.deliveries_p50_ms} ms`, '', '≤ 10 ms'],
    ...scaleOutRows(r),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), 6));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`${line(['figure', 'measured', 'vs baseline', 'target'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(scaleOutNotes(r));
}

/** `hookyard 150, postgres 240, sink 30, total 420`: CPU per delivery by process. */
function cpuEntries(perDelivery: Record<string, number>): string {
  return Object.entries(perDelivery).map(([kind, us]) => `${kind} ${us}`).join(', ');
}

/** Memory of the one-worker drain and the scale-out curve (issue 13, items 5 and 6). */
function scaleOutRows(r: Parameters<typeof printTable>[0]): [string, string, string, string][] {
  // The memory figures sit beside the drain figures the table's signature names.
  const fan1 = r.delivery.fanout_1 as Partial<DrainFigures>;
  const s = r.scale_out;
  return [
    ['delivery memory, fan-out 1', `heap after GC ${fan1.heap_start_mib}→${fan1.heap_end_mib} MiB (× ${fan1.heap_growth}), RSS max ${fan1.rss_max_mib} MiB`, '', 'heap ≤ 1.2 × start, RSS < 300 MiB'],
    s.workers_4 === undefined
      ? ['scale-out, drain (1/2 workers)', `${s.workers_1} / ${s.workers_2} per s`, `2: ${significant(s.workers_2 / s.workers_1)} × one worker`, '2 ≥ 1 worker']
      : ['scale-out, drain (1/2/4 workers)', `${s.workers_1} / ${s.workers_2} / ${s.workers_4} per s`, `2: ${significant(s.workers_2 / s.workers_1)} ×, 4: ${significant(s.workers_4 / s.workers_1)} × one worker`, '2 ≥ 1 worker'],
    ['scale-out, ingest (1/2 api)', `${s.ingest_api_1} / ${s.ingest_api_2} req/s`, `2: ${significant(s.ingest_api_2 / s.ingest_api_1)} × one api`, '2 ≥ 1 api'],
  ];
}

/** Under the table: each scale-out configuration's top waits and CPU, then every limit the bench raised. */
function scaleOutNotes(r: Parameters<typeof printTable>[0]): string {
  const entries = (record: Record<string, number>) => Object.entries(record).map(([k, v]) => `${k} ${v}`).join(', ');
  const waits = Object.entries(r.scale_out.configurations).map(
    ([name, c]) => `  ${name}: sessions ${entries(c.wait_sample.waits)}; CPU cores ${entries(c.wait_sample.cpu_cores)}`,
  );
  const limits = Object.entries(r.limits_raised).map(([name, { value, why }]) => `  ${name}=${value}: ${why}`);
  return `\nScale-out waits (mean sessions per 100 ms sample) and CPU:\n${waits.join('\n')}\n\nLimits raised above their defaults (every other limit at its default):\n${limits.join('\n')}\n`;
}
