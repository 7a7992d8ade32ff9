import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface OsUser {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root, so a root start runs it as the `postgres` OS user. */
export function postgresOsUser(): OsUser | undefined {
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

/**
 * The first directory on the way to `dir` (from `/` down to `dir` itself) that `user` cannot
 * traverse, or undefined when it can reach `dir`. Asked of the kernel as that user (one shell),
 * so ACLs and mount options count as they will for PostgreSQL.
 */
export function firstClosedDirectory(user: OsUser, dir: string): string | undefined {
  const chain: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    chain.unshift(current);
    if (current === path.dirname(current)) break;
  }
  const script = 'for d in "$@"; do cd "$d" 2>/dev/null || { printf %s "$d"; exit 1; }; done';
  const result = spawnSync('/bin/sh', ['-c', script, 'sh', ...chain], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
  return result.status === 0 ? undefined : result.stdout || dir;
}

/** Whether `user` can enter and write `dir`. */
export function canWrite(user: OsUser, dir: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'cd "$1" && test -w .', 'sh', dir], { uid: user.uid, gid: user.gid }).status === 0;
}
