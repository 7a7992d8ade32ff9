import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import pg from 'pg';
import { insertEvent } from '../lib/event-table.js';
import { announceReady } from './post-webhook.js';

/**
 * peer_ingest, in a process of its own: the least a durable receiver can do. It checks the
 * signature Hookyard's GitHub preset checks (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
 * the raw body>`, compared in constant time), commits one row shaped like `event` (the
 * pg_floor statement), and answers 200 only after that commit. No source lookup, routing,
 * deliveries or jobs: one INSERT per request, on a pool of one connection per load connection.
 */
const SIGNATURE = /^sha256=([0-9a-f]{64})$/;
const secret = process.env.GITHUB_SECRET!;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE) });

function signed(request: IncomingMessage, body: Buffer): boolean {
  const match = SIGNATURE.exec(String(request.headers['x-hub-signature-256'] ?? ''));
  return match !== null && timingSafeEqual(Buffer.from(match[1]!, 'hex'), createHmac('sha256', secret).update(body).digest());
}

async function accept(request: IncomingMessage, body: Buffer): Promise<number> {
  if (!signed(request, body)) return 401;
  const type = String(request.headers['x-github-event'] ?? '');
  const delivery = String(request.headers['x-github-delivery'] ?? '');
  await insertEvent(pool, { type, idempotencyKey: delivery, headers: { 'x-github-event': type, 'x-github-delivery': delivery }, body });
  return 200;
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    accept(request, Buffer.concat(chunks)).then(
      (status) => response.writeHead(status, { 'content-length': '0' }).end(),
      () => response.writeHead(500, { 'content-length': '0' }).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  announceReady(typeof address === 'object' && address ? address.port : 0);
});
