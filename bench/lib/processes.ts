import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/free-port.js';

export { freePort };

/**
 * The compiled tree: `dist/` (this file runs from dist/bench/lib/, or from bench/lib/ when the
 * chaos tests import it as TypeScript: the servers they fork are the compiled ones all the same).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = path.basename(ROOT) === 'dist' ? ROOT : path.join(ROOT, 'dist/');

export interface Child {
  process: ChildProcess;
  port: number;
  stop(): Promise<void>;
  rssMiB(): number;
}

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    });
}

/** A helper server of the benchmark (sink, http floor) in its own process; resolves with its port. */
export async function forkServer(script: string, env: Record<string, string> = {}): Promise<Child> {
  const child = fork(`${DIST}bench/${script}`, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { process: child, port, stop: stopper(child), rssMiB: () => rssOf(child.pid) };
}


/**
 * The Node and V8 flags `npm start` runs Hookyard with, read from package.json's start script
 * (`node <flags> dist/src/main.js`), so the bench measures the product as it ships.
 */
export const START_FLAGS: string[] = (() => {
  const start = (JSON.parse(readFileSync(path.join(ROOT, path.basename(ROOT) === 'dist' ? '../package.json' : 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  return start.slice(1, -1);
})();

/**
 * Hookyard as `npm start` runs it (`node <START_FLAGS> dist/src/main.js`), ready when /readyz
 * says so; `nodeFlags` replace START_FLAGS (an A/B of flags, bench/tools/drain.ts).
 */
export async function startHookyard(env: Record<string, string>, nodeFlags: string[] = START_FLAGS): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, `${DIST}src/main.js`], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Hookyard exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('Hookyard did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: child, port, url, stop: stopper(child), rssMiB: () => rssOf(child.pid) };
}
