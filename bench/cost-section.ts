import type { CostFigures } from './cost.js';

/** What the README's cost section is computed from: a full run's results file. */
export interface CostInputs {
  mode: string;
  at: string;
  machine: { cpus: number; postgres: string };
  ingest: { rps: number };
  http_floor: { rps: number };
  pg_floor: { commits_per_s: number };
  delivery: { fanout_1: { per_s: number } };
  cost: CostFigures;
}

/** The README's section lies between these lines; `npm run bench:readme` rewrites it. */
export const COST_BEGIN = '<!-- cost: written by `npm run bench:readme` from bench/results/latest.json -->';
export const COST_END = '<!-- /cost -->';

/** Retention of finished deliveries, their attempts and events by default (HOOKYARD_RETENTION_HOURS). */
const DEFAULT_RETENTION_HOURS = 72;
/** The small managed PostgreSQL the section prices: 2 vCPU, 20 GiB of storage. */
const SMALL_STORAGE_GIB = 20;

const KIB = 1024;
const GIB = 1024 ** 3;
const oneDecimal = (value: number) => Math.round(value * 10) / 10;

/**
 * The section's text, every figure computed from `r` (a full run): a test holds the README
 * equal to it, so the README cannot quote a run it did not come from.
 */
export function costSection(r: CostInputs): string {
  const c = r.cost;
  const perCoreIngest = Math.round(r.ingest.rps / r.machine.cpus);
  const perCoreDelivery = Math.round(r.delivery.fanout_1.per_s / r.machine.cpus);
  const cpu = c.cpu_us_per_event;
  const perCore = (us: number | undefined) => (us ? Math.round(1_000_000 / us) : 0);
  const keptPerDay = 1_000_000 * (DEFAULT_RETENTION_HOURS / 24);
  const perMillionGib = (c.storage_bytes_per_event * 1_000_000) / GIB;
  const fitsMillions = (SMALL_STORAGE_GIB * GIB) / c.storage_bytes_per_event / 1_000_000;
  const fitsPerSecond = Math.round((fitsMillions * 1_000_000) / (DEFAULT_RETENTION_HOURS * 3600));
  const walPerDayGib = (c.wal_bytes_per_event * 1_000_000) / GIB;
  return [
    COST_BEGIN,
    `From the last full benchmark (${r.at}, ${r.machine.cpus} cores with PostgreSQL ${r.machine.postgres} on the same`,
    'cores, 1 KiB webhooks, one relay per event). The writes and bytes are those of',
    `${c.events} events taken at ${c.rate}/s by an api process and delivered by a worker, from the`,
    'request to the recorded attempt, PostgreSQL\'s and pg-boss\'s work included.',
    '',
    '| what | per event or per core |',
    '| --- | --- |',
    `| events taken and delivered per second per core (Hookyard and PostgreSQL: ${cpu.total} µs of CPU per event at ${c.rate}/s) | ${perCore(cpu.total)} |`,
    `| at the most, events taken per second per core (api role alone, both cores busy) | ${perCoreIngest} |`,
    `| at the most, deliveries per second per core (one worker, both cores busy) | ${perCoreDelivery} |`,
    `| WAL written per event | ${oneDecimal(c.wal_bytes_per_event / KIB)} KiB |`,
    `| WAL flushes to disk per event (group commit) | ${c.wal_syncs_per_event} |`,
    `| rows written per event (inserted, updated, deleted) | ${c.rows_written_per_event} |`,
    `| storage per event kept (event, delivery, attempt, indexes) | ${oneDecimal(c.storage_bytes_per_event / KIB)} KiB |`,
    `| storage per million events kept | ${oneDecimal(perMillionGib)} GiB |`,
    `| storage at the default retention (${DEFAULT_RETENTION_HOURS} h) and 1 million events a day | ${oneDecimal((perMillionGib * keptPerDay) / 1_000_000)} GiB |`,
    '',
    `On a small managed PostgreSQL (2 vCPU, ${SMALL_STORAGE_GIB} GiB of storage): PostgreSQL's share of an event was`,
    `${cpu.postgres} µs of CPU, so one vCPU does the database work of at most about ${perCore(cpu.postgres)} events/s; ${SMALL_STORAGE_GIB} GiB`,
    `keeps about ${oneDecimal(fitsMillions)} million events, which at the default retention is an average of about`,
    `${fitsPerSecond} events/s (${oneDecimal((fitsPerSecond * 86_400) / 1_000_000)} million a day); and a million events a day write about`,
    `${oneDecimal(walPerDayGib)} GiB of WAL, which backups and replicas carry too. pg-boss's job table grows by`,
    `${oneDecimal(c.job_bytes_per_event / KIB)} KiB per event until vacuum reclaims the rows of finished jobs (deleted as they finish). Storage is`,
    'as written, before vacuum reclaims the row versions each delivery\'s updates leave; payloads',
    'larger than 1 KiB add their size. The rates depend on the machine: the same run measured',
    `a bare HTTP server at ${r.http_floor.rps} req/s and single-row commits at ${r.pg_floor.commits_per_s}/s.`,
    COST_END,
  ].join('\n');
}

/** The README with its cost section replaced by `section`; throws when the markers are missing. */
export function withCostSection(readme: string, section: string): string {
  const begin = readme.indexOf(COST_BEGIN);
  const end = readme.indexOf(COST_END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no cost section between "${COST_BEGIN}" and "${COST_END}"`);
  return readme.slice(0, begin) + section + readme.slice(end + COST_END.length);
}
