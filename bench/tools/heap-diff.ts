/**
 * What a worker's heap keeps after a drain (diagnosis, not part of `npm run bench`):
 *   node dist/bench/tools/heap-diff.js [--backlog 50000] [--fanout 1] [--rounds 2] [--dir DIR] [--top 25]
 * Drains `rounds` backlogs with one worker (bench/delivery.ts), taking a heap snapshot through
 * its inspector after the full GC of each heap reading, then prints, for the snapshot at the
 * end of the first drain against the one at start, the constructors (V8 node type and name)
 * that grew most in retained-by-nobody-else self size and count, and for the new objects of
 * each, what holds them (the retaining object's name and the edge): that is where the
 * retention lives. Snapshots stay in DIR for DevTools. `--compare A B` diffs two saved files.
 * Writing a snapshot raises the worker's RSS by ≈ 150 MiB for good: read RSS from drain.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { withDatabase } from '../../src/db/database-url.js';
import { drainBacklog } from '../delivery.js';
import { PLANS } from '../plan.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    backlog: { type: 'string', default: '50000' },
    fanout: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    dir: { type: 'string' },
    top: { type: 'string', default: '25' },
    compare: { type: 'boolean', default: false },
  },
});
const top = Number(values.top);

interface Snapshot {
  types: string[];
  strings: string[];
  nodes: Uint32Array | number[];
  edges: number[];
  nodeFields: number;
  edgeFields: number;
  edgeTypes: string[];
}

async function load(file: string): Promise<Snapshot> {
  const json = JSON.parse(await readFile(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[]; edges: number[]; strings: string[];
  };
  const meta = json.snapshot.meta;
  return { types: meta.node_types[0], strings: json.strings, nodes: json.nodes, edges: json.edges, nodeFields: meta.node_fields.length, edgeFields: meta.edge_fields.length, edgeTypes: meta.edge_types[0] };
}

// node_fields: type, name, id, self_size, edge_count, … ; edge_fields: type, name_or_index, to_node.
const label = (s: Snapshot, node: number) => `${s.types[s.nodes[node]!]}:${s.strings[s.nodes[node + 1]!]!.slice(0, 60)}`;

function byConstructor(s: Snapshot): Map<string, { count: number; size: number }> {
  const out = new Map<string, { count: number; size: number }>();
  for (let n = 0; n < s.nodes.length; n += s.nodeFields) {
    const key = label(s, n);
    const entry = out.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += s.nodes[n + 3]!;
    out.set(key, entry);
  }
  return out;
}

function ids(s: Snapshot): Set<number> {
  const out = new Set<number>();
  for (let n = 0; n < s.nodes.length; n += s.nodeFields) out.add(s.nodes[n + 2]!);
  return out;
}

/** For the objects of `key` that are not in `before`: their retainers, by the retainer's label and the edge's name. */
function retainers(s: Snapshot, key: string, before: Set<number>, limit: number): [string, number][] {
  const counts = new Map<string, number>();
  let edge = 0;
  for (let n = 0; n < s.nodes.length; n += s.nodeFields) {
    const edgeCount = s.nodes[n + 4]!;
    for (let e = 0; e < edgeCount; e++, edge += s.edgeFields) {
      const type = s.edgeTypes[s.edges[edge]!]!;
      if (type === 'weak') continue;
      const to = s.edges[edge + 2]!;
      if (label(s, to) !== key || before.has(s.nodes[to + 2]!)) continue;
      const name = type === 'element' || type === 'hidden' ? `[${type}]` : String(s.strings[s.edges[edge + 1]!]).slice(0, 40);
      const by = `${label(s, n)} .${name}`;
      counts.set(by, (counts.get(by) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit);
}

async function compare(startFile: string, endFile: string): Promise<void> {
  const start = await load(startFile);
  const end = await load(endFile);
  const a = byConstructor(start);
  const b = byConstructor(end);
  const total = (m: Map<string, { size: number }>) => [...m.values()].reduce((t, v) => t + v.size, 0);
  console.log(`self size: start ${(total(a) / 2 ** 20).toFixed(1)} MiB, end ${(total(b) / 2 ** 20).toFixed(1)} MiB`);
  const rows = [...b].map(([key, v]) => ({ key, count: v.count - (a.get(key)?.count ?? 0), size: v.size - (a.get(key)?.size ?? 0) }))
    .sort((x, y) => y.size - x.size).slice(0, top);
  console.log('   Δ KiB   Δ count  constructor');
  for (const r of rows) console.log(`${(r.size / 1024).toFixed(0).padStart(8)} ${String(r.count).padStart(9)}  ${r.key}`);
  const before = ids(start);
  for (const r of rows.slice(0, 8)) {
    console.log(`\nheld by (new ${r.key}):`);
    for (const [by, count] of retainers(end, r.key, before, 6)) console.log(`${String(count).padStart(9)}  ${by}`);
  }
}

if (values.compare) {
  await compare(positionals[0]!, positionals[1]!);
} else {
  const dir = values.dir ?? (await mkdtemp(path.join(tmpdir(), 'hookyard-heap-')));
  const stateDir = await mkdtemp(path.join(tmpdir(), 'hookyard-heap-pg-'));
  const embedded = await startEmbeddedPostgres({ stateDir, settings: { max_connections: '300', shared_buffers: '256MB' } });
  try {
    const name = `hookyard_heap_${process.pid}`;
    const admin = new pg.Client({ connectionString: embedded.adminUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const figures = await drainBacklog({ ...PLANS.quick, backlog: Number(values.backlog) }, withDatabase(embedded.adminUrl, name), Number(values.fanout), 1, {
      rounds: Number(values.rounds),
      atHeapReading: (probe, moment) => probe.snapshot(path.join(dir, `${moment}.heapsnapshot`)),
    });
    const { wait_sample: _, ...shown } = figures;
    console.log(JSON.stringify(shown));
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  } finally {
    await embedded.stop();
    await rm(embedded.clusterDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
  console.log(`snapshots in ${dir}`);
  await compare(path.join(dir, 'start.heapsnapshot'), path.join(dir, 'end-1.heapsnapshot'));
  if (Number(values.rounds) > 1) {
    console.log(`\n--- end of drain ${values.rounds} against end of drain 1 ---`);
    await compare(path.join(dir, 'end-1.heapsnapshot'), path.join(dir, `end-${values.rounds}.heapsnapshot`));
  }
}
