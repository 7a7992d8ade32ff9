import { spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATIONS_SOURCE_ID } from '../../src/routing/operations-source.js';
import { freePort, REPO_ROOT } from '../helpers/process.js';
import { waitUntil } from '../helpers/sink.js';

let copy: string | undefined;
let stopGroup: (() => Promise<void>) | undefined;

afterAll(async () => {
  await stopGroup?.();
  if (copy) await rm(copy, { recursive: true, force: true });
});

async function portFree(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true);
}

describe('npm start from a fresh copy', () => {
  it('becomes ready with no environment and writes its admin token and key under .hookyard/', async () => {
    copy = await mkdtemp(path.join(tmpdir(), 'hookyard-start-'));
    // A checkout postgres can traverse (a root start runs PostgreSQL as that user), as most are.
    await chmod(copy, 0o755);
    // What the build reads: the server's sources, and the console with its codegen inputs.
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'mikro-orm.config.ts', 'src', 'codegen.ts', 'schema.graphql', 'console']) {
      await cp(path.join(REPO_ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'));

    // Nothing but what a shell needs to find npm; PORT only if 3000 is taken on this machine.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
    const port = (await portFree(3000)) ? 3000 : await freePort();
    if (port !== 3000) env.PORT = String(port);
    const started = Date.now();
    const child = spawn('npm', ['start'], { cwd: copy, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    stopGroup = async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await exited;
    };

    // Files are checked at the first 200: they must exist before readiness is reported.
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      return ready ? true : undefined;
    }, 90_000, `readiness\n${output}`);
    const tokenFile = path.join(copy, '.hookyard', 'admin-token');
    const keyFile = path.join(copy, '.hookyard', 'encryption-key');
    const token = await readFile(tokenFile, 'utf8');
    expect(token).toMatch(/^hky_[A-Za-z0-9_-]{43}\n$/);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect(JSON.parse(await readFile(path.join(copy, '.hookyard', 'postgres.json'), 'utf8')).port).not.toBe(5432);
    // Printed once, to stderr.
    expect(output).toContain(token.trim());

    const graphql = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.trim()}` },
      body: JSON.stringify({ query: '{ sources { id } }' }),
    });
    // A fresh database holds one source: the built-in one of operational events, made by a migration.
    expect(await graphql.json()).toEqual({ data: { sources: [{ id: OPERATIONS_SOURCE_ID }] } });
    // The console, built by prestart, served at / with its policy.
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    console.log(`npm start (tsc and console build included) ready in ${Date.now() - started} ms`);

    // The cluster lives under the data dir, on a root start too (DESIGN.md "Running").
    const { clusterDir } = JSON.parse(await readFile(path.join(copy, '.hookyard', 'postgres.json'), 'utf8')) as { clusterDir: string };
    expect(clusterDir).toBe(path.join(copy, '.hookyard', 'pg'));
    if (process.getuid?.() === 0) expect((await stat(path.join(copy, '.hookyard'))).mode & 0o777).toBe(0o711);

    // SIGTERM to the group (npm and node): node stops its embedded PostgreSQL on the way out.
    await stopGroup();
    stopGroup = undefined;
    await waitUntil(async () => (await stat(path.join(clusterDir, 'postmaster.pid')).then(() => undefined, () => true)), 20_000, 'the embedded PostgreSQL to stop');
    await rm(clusterDir, { recursive: true, force: true });
    // The build and a cluster's initdb: ~10 s idle, over the 60 s default on a loaded 2-core box.
  }, 150_000);
});
