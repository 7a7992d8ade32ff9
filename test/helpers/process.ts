import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './sink.js';
import { freePort } from '../../src/free-port.js';

export { freePort };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface HookyardProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGKILL the whole process group: nothing gets to clean up. */
  kill9(): void;
  stop(): Promise<number | null>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * `node dist/src/main.js` (compiled by `pretest`) with the pinned Node, in a process group of its
 * own so a test can kill it outright. Resolves once /readyz answers 200 (at once with
 * `waitForReady: false`, for a test that watches the start itself).
 */
export async function spawnHookyard(env: Record<string, string>, options: { cwd?: string; readyTimeoutMs?: number; inheritEnv?: boolean; waitForReady?: boolean } = {}): Promise<HookyardProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const base = options.inheritEnv === false ? {} : process.env;
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...base, ...env, PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const proc: HookyardProcess = {
    child,
    url,
    output: () => output,
    exited,
    kill9: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      process.kill(-child.pid!, 'SIGTERM');
      return exited;
    },
  };
  if (options.waitForReady === false) return proc;
  try {
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`Hookyard exited with ${child.exitCode}:\n${output}`);
      const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
      return ok ? true : undefined;
    }, options.readyTimeoutMs ?? 30_000, `Hookyard ready on ${url}\n${output}`);
  } catch (error) {
    proc.kill9();
    throw error;
  }
  return proc;
}
