import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleRoute } from '../../src/http/console-route.js';
import { closeServer, createHttpServer, listen } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';

// The console's files, served from a build directory made here (the real build is
// dist/console, which the browser test drives): exact paths only, under a strict CSP.
let dir: string;
let base: string;
let stop: () => Promise<void>;

/** A raw GET, so that `..` and encoded slashes reach the server as written. */
function get(pathname: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const request = httpRequest({ host: url.hostname, port: url.port, path: pathname, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function serve(buildDir: string): Promise<{ base: string; stop: () => Promise<void> }> {
  const server = createHttpServer([await consoleRoute(buildDir)], createLogger('silent'));
  const port = await listen(server, 0);
  return { base: `http://127.0.0.1:${port}`, stop: () => closeServer(server) };
}

beforeAll(async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'hookyard-console-'));
  dir = path.join(root, 'console');
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app-1.js"></script>');
  await writeFile(path.join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'assets', 'notes.txt'), 'not a served type');
  await writeFile(path.join(dir, 'secret.json'), '{"secret":true}');
  await writeFile(path.join(root, 'outside.js'), 'outside');
  ({ base, stop } = await serve(dir));
});

afterAll(async () => {
  await stop();
  await rm(path.dirname(dir), { recursive: true, force: true });
});

describe('the console route', () => {
  it('serves the index at / with a strict CSP, nosniff and no caching', async () => {
    const answer = await get('/');
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('/assets/app-1.js');
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:|\*/);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['cache-control']).toBe('no-cache');
  });

  it('serves hashed assets for good, HEAD without a body, and 304 on a matching ETag', async () => {
    const answer = await get('/assets/app-1.js');
    expect(answer).toMatchObject({ status: 200, body: 'console.log(1)' });
    expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(answer.headers['cache-control']).toContain('immutable');
    expect(answer.headers['content-security-policy']).toBe(CONSOLE_CSP);
    const head = await get('/assets/app-1.js', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    const again = await get('/assets/app-1.js', 'GET', { 'if-none-match': String(answer.headers.etag) });
    expect(again).toMatchObject({ status: 304, body: '' });
  });

  it.each([
    '/secret.json', '/index.html', '/assets/notes.txt', '/assets/../secret.json', '/assets/..%2fsecret.json', '/assets/..%2f..%2foutside.js',
    '/assets/%2e%2e/secret.json', '/assets/app-1.js/', '/assets/', '/assets/nope.js', '/../outside.js', '//etc/passwd',
  ])('answers 404 for %s: only the files of the build, by exact path', async (pathname) => {
    const answer = await get(pathname);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('secret');
    expect(answer.body).not.toContain('outside');
  });

  it('refuses other methods with 405', async () => {
    const answer = await get('/', 'POST');
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
  });

  it('says the console is not built when there is no build', async () => {
    const empty = await serve(path.join(path.dirname(dir), 'missing'));
    try {
      const answer = await fetch(`${empty.base}/`);
      expect(answer.status).toBe(404);
      expect(await answer.text()).toContain('npm run build');
    } finally {
      await empty.stop();
    }
  });
});
