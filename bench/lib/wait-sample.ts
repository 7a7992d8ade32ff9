import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { significant } from './stats.js';

/**
 * What the database sessions of one benchmark section wait on, and how much CPU its
 * processes burn: `pg_stat_activity` every 100 ms for the section's database, and the
 * processes' CPU time from /proc/<pid>/stat at start and end. Together they say what bounds
 * a rate: PostgreSQL on CPU, on the WAL flush (`IO:WALSync`), on locks, or Hookyard's
 * sessions sitting idle (the bound is in the Node process or the round trips).
 */
export interface WaitFigures {
  samples: number;
  /** The most frequent states, as the mean number of sessions in each per sample (active sessions on CPU: `CPU`). */
  waits: Record<string, number>;
  /** CPU used during the sample, in cores (1 = one core busy throughout), per kind of process; only kinds that used any. */
  cpu_cores: Record<string, number>;
}

/**
 * CPU time per unit of work (µs per delivery or request) by kind of process, and their
 * `total`: the cores a section used divided by its rate. On a shared two-core box this moves
 * far less than the rate, and it says what a rate would be if CPU were all that bound it.
 */
export function cpuPerUnit(cpuCores: Record<string, number>, perSecond: number): Record<string, number> {
  const per = Object.fromEntries(Object.entries(cpuCores).map(([kind, cores]) => [kind, Math.round((cores * 1e6) / perSecond)]));
  return { ...per, total: Object.values(per).reduce((sum, us) => sum + us, 0) };
}

export interface WaitSampler {
  stop(): Promise<WaitFigures>;
}

const TOP = 6;
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime in clock ticks, or undefined once the process is gone (or not on this machine). */
export function cpuTicks(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** A session's state as one label: its wait event, `CPU` when active without one, else its state. */
export function sessionLabel(row: { state: string | null; wait_event_type: string | null; wait_event: string | null }): string {
  if (row.state === 'active') return row.wait_event ? `${row.wait_event_type}:${row.wait_event}` : 'CPU';
  return row.state ?? 'unknown';
}

/**
 * Starts sampling the sessions of `databaseUrl`'s database (the sampler's own excluded) and
 * the CPU of the given processes (by kind: `hookyard`, `sink`, `load`, ...) and of every
 * PostgreSQL backend the sample sees (`postgres`; on this machine only).
 */
export async function startWaitSample(databaseUrl: string, processes: Record<string, (number | undefined)[]>, everyMs = 100): Promise<WaitSampler> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const counts = new Map<string, number>();
  let samples = 0;
  const started = performance.now();
  const baseline = new Map<number, number>();
  const latest = new Map<number, number>();
  const watch = (pid: number, firstSample: boolean) => {
    const ticks = cpuTicks(pid);
    if (ticks === undefined) return;
    // A backend that appears mid-sample was born during it: all its CPU time counts.
    if (!baseline.has(pid)) baseline.set(pid, firstSample ? ticks : 0);
    latest.set(pid, ticks);
  };
  const own = Object.entries(processes).flatMap(([kind, pids]) => pids.filter((pid): pid is number => pid !== undefined).map((pid) => ({ kind, pid })));
  for (const { pid } of own) watch(pid, true);
  const postgresPids = new Set<number>();

  const sample = async () => {
    // This database's backends and the cluster's background processes (WAL writer,
    // checkpointer, ...), not other databases' sessions on a shared server.
    const { rows } = await client.query<{ pid: number; own_database: boolean; state: string | null; wait_event_type: string | null; wait_event: string | null }>(
      `select pid, datname is not null as own_database, state, wait_event_type, wait_event
         from pg_stat_activity
        where pid <> pg_backend_pid() and (datname = current_database() or datname is null)`,
    );
    for (const row of rows) {
      watch(row.pid, samples === 0);
      postgresPids.add(row.pid);
      if (!row.own_database) continue;
      const label = sessionLabel(row);
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    samples++;
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await sample().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (performance.now() - t0))));
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
      const seconds = (performance.now() - started) / 1000;
      for (const { pid } of own) watch(pid, false);
      for (const pid of postgresPids) watch(pid, false);
      await client.end();
      const used = (pids: Iterable<number>) => [...pids].reduce((sum, pid) => sum + (latest.get(pid) ?? 0) - (baseline.get(pid) ?? 0), 0);
      const cpu: Record<string, number> = {};
      const kinds = new Map<string, number[]>([['postgres', [...postgresPids]]]);
      for (const { kind, pid } of own) kinds.set(kind, [...(kinds.get(kind) ?? []), pid]);
      for (const [kind, pids] of kinds) {
        const cores = used(pids) / CLOCK_TICKS / seconds;
        if (cores > 0) cpu[kind] = significant(cores, 2);
      }
      const waits = Object.fromEntries(
        [...counts].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([label, n]) => [label, significant(n / Math.max(samples, 1), 2)]),
      );
      return { samples, waits, cpu_cores: cpu };
    },
  };
}
