import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendJson } from '../wire/json-response.js';
import type { Route } from './server.js';

/**
 * The console's policy: its own scripts, styles and API only. No inline script or style, no
 * other origin, no plugin, no framing, no form posting anywhere; `connect-src 'self'` covers
 * the graphql-ws socket on the same host and port (CSP 3 lets 'self' match ws: and wss:).
 */
export const CONSOLE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface Asset { body: Buffer; type: string; etag: string; immutable: boolean }

/** The built console (`vite build`'s output): found from the package root, in dist/console/. */
export function builtConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // From src/http (tests) or dist/src/http (npm start): the package root holds package.json.
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'console');
}

/**
 * Every file of the build, read once into memory (a few hundred KiB): a request is looked up in
 * this table by its exact path and never joined to a directory, so no path reaches the disk.
 * Files outside `index.html` and `assets/` are not served; a type we do not know is skipped.
 */
async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  if (!existsSync(path.join(dir, 'index.html'))) return assets;
  const add = async (relative: string, immutable: boolean) => {
    const type = TYPES[path.extname(relative)];
    if (!type) return;
    const body = await readFile(path.join(dir, relative));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(`/${relative}`, { body, type, etag, immutable });
  };
  await add('index.html', false);
  const assetDir = path.join(dir, 'assets');
  if (existsSync(assetDir)) {
    // Vite names them after their content hash: cached for good.
    for (const entry of await readdir(assetDir, { withFileTypes: true })) if (entry.isFile()) await add(`assets/${entry.name}`, true);
  }
  return assets;
}

/**
 * The console at `/` (its index) and `/assets/<name>` (its hashed files), GET and HEAD only,
 * under a strict CSP. Without a build (`npm run build` makes it), `/` says so in a 404.
 */
export async function consoleRoute(dir: string = builtConsoleDir()): Promise<Route> {
  const assets = await loadAssets(dir);
  return {
    path: /^\/(?:|assets\/[^/]+)$/,
    methods: ['GET', 'HEAD'],
    handler: async (request, response, url) => {
      const asset = assets.get(url.pathname === '/' ? '/index.html' : url.pathname);
      if (!asset) {
        const message = assets.size === 0 ? 'the console is not built: run npm run build' : 'no such console file';
        return sendJson(response, 404, { error: { code: 'NOT_FOUND', message } });
      }
      const headers = {
        'content-type': asset.type,
        'content-security-policy': CONSOLE_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag: asset.etag,
      };
      if (request.headers['if-none-match'] === asset.etag) {
        response.writeHead(304, headers);
        return void response.end();
      }
      response.writeHead(200, { ...headers, 'content-length': asset.body.length });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
    },
  };
}
