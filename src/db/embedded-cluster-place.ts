import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { firstClosedDirectory, type OsUser } from './postgres-os-user.js';

/**
 * Where an embedded cluster lives (DESIGN.md "Running"). Always `<dataDir>/pg`; on a root start
 * PostgreSQL runs as the `postgres` OS user, which owns that subtree, and the data dir is opened
 * for traversal only (0711: its key and token files stay unreadable). Only when a directory above
 * the data dir is closed to that user (a checkout under a 0700 home) does the cluster go to
 * `<fallbackDir>/<id>`, private and durable. Never a shared temp dir: one wiped at reboot loses
 * every acknowledged webhook, and a world-writable parent lets other local users swap it.
 */

export const DEFAULT_FALLBACK_DIR = '/var/lib/hookyard';

export type ClusterLog = (line: string, level?: 'info' | 'warn') => void;

/** The fallback entry of a data dir: named from its absolute path, so two checkouts never share one. */
export function fallbackId(stateDir: string): string {
  return createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 16);
}

export function hasCluster(dir: string): boolean {
  return existsSync(path.join(dir, 'PG_VERSION'));
}

/**
 * Decides where the cluster of `stateDir` belongs and opens just enough for `user` to reach it:
 * the data dir 0711, or the fallback dir's execute bits. Creates nothing else.
 */
export async function clusterPlace(stateDir: string, fallbackDir: string, user: OsUser | undefined, log: ClusterLog): Promise<string> {
  const inside = path.join(stateDir, 'pg');
  if (!user) return inside;
  const closed = firstClosedDirectory(user, path.dirname(stateDir));
  if (closed === undefined) {
    await chmod(stateDir, 0o711);
    return inside;
  }
  const root = path.resolve(fallbackDir);
  await mkdir(root, { recursive: true, mode: 0o711 });
  const { mode } = await stat(root);
  if ((mode & 0o022) !== 0) {
    throw new Error(`${root} (HOOKYARD_EMBEDDED_FALLBACK_DIR) is writable by other users, who could swap the embedded database: make it 0711 and owned by root, or choose another directory`);
  }
  if ((mode & 0o001) === 0) await chmod(root, (mode & 0o7777) | 0o011);
  const unreachable = firstClosedDirectory(user, root);
  if (unreachable !== undefined) {
    throw new Error(`the postgres OS user cannot reach ${root} (blocked at ${unreachable}): point HOOKYARD_EMBEDDED_FALLBACK_DIR at a directory it can traverse, or set DATABASE_URL`);
  }
  const place = path.join(root, fallbackId(stateDir));
  log(`the postgres OS user cannot traverse ${closed}, above the data directory ${stateDir}: the embedded PostgreSQL lives in ${place} instead (HOOKYARD_EMBEDDED_FALLBACK_DIR)`, 'warn');
  return place;
}

/** Creates the (empty) cluster directory, 0700, owned by `user`. */
export async function createClusterDir(clusterDir: string, user: OsUser | undefined): Promise<void> {
  await mkdir(clusterDir, { mode: 0o700 });
  if (user) await chown(clusterDir, user.uid, user.gid);
}

/**
 * Runs `use` with a file holding `password`, 0600 in a fresh 0700 directory owned by `user`
 * next to the cluster (where that user can reach it), and removes both afterwards.
 */
export async function withPasswordFile<T>(clusterDir: string, user: OsUser | undefined, password: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(`${clusterDir}.pw-`);
  try {
    if (user) await chown(dir, user.uid, user.gid);
    const file = path.join(dir, 'password');
    await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
    if (user) await chown(file, user.uid, user.gid);
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Leftovers of a start that died half-way, next to `clusterDir` and named after it (a password
 * directory, a copy being moved in). Nothing else is looked at.
 */
export async function removeLeftovers(clusterDir: string): Promise<void> {
  const parent = path.dirname(clusterDir);
  const base = path.basename(clusterDir);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (name.startsWith(`${base}.pw-`) || name.startsWith(`${base}.moving-`)) await rm(path.join(parent, name), { recursive: true, force: true });
  }
}

function copyPreserving(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', '--', from, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(errors.trim() || `cp exited with ${code}`))));
  });
}

/**
 * Moves a stopped cluster from `from` to `to`: a rename on one filesystem, else a copy (owners
 * and modes kept) into a staging name renamed into place. `commit` records the new place; only
 * then is the old copy removed, so a crash at any step leaves one complete, recorded cluster.
 */
export async function moveCluster(from: string, to: string, commit: () => Promise<void>): Promise<void> {
  if (existsSync(to)) throw new Error(`${to} already exists`);
  let renamed = false;
  try {
    await rename(from, to);
    renamed = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  if (renamed) {
    try {
      await commit();
    } catch (error) {
      // Unrecorded, the new place would be "missing" at the next start: put it back.
      await rename(to, from).catch(() => {});
      throw error;
    }
    return;
  }
  const staging = `${to}.moving-${randomBytes(4).toString('hex')}`;
  try {
    await copyPreserving(from, staging);
    await rename(staging, to);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await commit();
  await rm(from, { recursive: true, force: true });
}
