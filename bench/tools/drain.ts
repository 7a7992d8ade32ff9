/**
 * The delivery drain alone, for A/B work on the worker (not part of `npm run bench`):
 *   node dist/bench/tools/drain.js [--backlog 20000] [--fanout 1] [--runs 1] [--statements] [--prof DIR]
 * `--statements` logs every statement of the cluster (log_min_duration_statement=0) and prints,
 * for the drain only, statement counts and time per delivery; `--prof` writes CPU profiles of
 * every process it starts (the worker's is the largest) into DIR.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { withDatabase } from '../../src/db/database-url.js';
import { drainBacklog } from '../delivery.js';
import { PLANS } from '../plan.js';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '20000' },
    fanout: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    statements: { type: 'boolean', default: false },
    prof: { type: 'string' },
  },
});
const backlog = Number(values.backlog);
const fanouts = values.fanout!.split(',').map(Number);

const stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-drain-pg-'));
const settings: Record<string, string> = { max_connections: '300', shared_buffers: '256MB' };
if (values.statements) Object.assign(settings, { log_min_duration_statement: '0', log_line_prefix: "'%p %a '" });
const embedded = await startEmbeddedPostgres({ stateDir, settings });
const logFile = path.join(embedded.clusterDir, 'postgres.log');
if (values.prof) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${values.prof}`;
try {
  for (let run = 0; run < Number(values.runs); run++) {
    for (const fanout of fanouts) {
      const name = `hookyard_drain_${process.pid}_${run}_${fanout}`;
      const admin = new pg.Client({ connectionString: embedded.adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = withDatabase(embedded.adminUrl, name);
      const logStart = values.statements ? (await stat(logFile)).size : 0;
      const figures = await drainBacklog({ ...PLANS.quick, backlog }, url, fanout);
      console.log(JSON.stringify({ run, fanout, per_s: figures.per_s, seconds: figures.seconds, rss_max_mib: figures.rss_max_mib }));
      if (values.statements) console.log(statementTable(await readFile(logFile, 'utf8').then((t) => t.slice(logStart)), figures.deliveries));
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  }
} finally {
  await embedded.stop();
  await rm(embedded.clusterDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
}

/** Statements of the worker (application names hookyard, hookyard-boss), grouped by their first words. */
function statementTable(log: string, deliveries: number): string {
  const groups = new Map<string, { count: number; ms: number }>();
  const line = /^\d+ (hookyard\S*) .*duration: ([\d.]+) ms\s+(?:statement|execute [^:]*): (.*)$/;
  // A statement's text continues on lines that start with a tab.
  for (const text of log.replace(/\n\t/g, ' ').split('\n')) {
    const m = line.exec(text);
    if (!m) continue;
    const key = `${m[1]} ${m[3]!.replace(/\s+/g, ' ').trim().slice(0, 90)}`;
    const g = groups.get(key) ?? { count: 0, ms: 0 };
    g.count++;
    g.ms += Number(m[2]);
    groups.set(key, g);
  }
  const rows = [...groups].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, g]) => ({ count: s.count + g.count, ms: s.ms + g.ms }), { count: 0, ms: 0 });
  return [
    `statements: ${total.count} (${(total.count / deliveries).toFixed(3)} per delivery), ${total.ms.toFixed(0)} ms in the server (${((total.ms * 1000) / deliveries).toFixed(1)} µs per delivery)`,
    ...rows.slice(0, 25).map(([k, g]) => `${String(g.count).padStart(7)} ${(g.count / deliveries).toFixed(3).padStart(7)}/d ${g.ms.toFixed(0).padStart(7)} ms  ${k}`),
  ].join('\n');
}
