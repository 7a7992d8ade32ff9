import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';
import { GITHUB_SECRET } from '../lib/configure.js';

/**
 * A bare durable receiver for comparison while working on ingest (issue 13's `peer_ingest`
 * shape): verify the GitHub HMAC, one INSERT, 200 after its commit. DATABASE_URL names its
 * database; POOL its connections (default 10, pg's default).
 */
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL ?? 10) });
await pool.query(`create table if not exists peer_event (
  id uuid primary key, type text not null, idempotency_key text, headers jsonb not null, body bytea not null,
  received_at timestamptz not null default now())`);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    const given = Buffer.from(String(request.headers['x-hub-signature-256'] ?? ''));
    const wanted = Buffer.from(`sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      response.writeHead(401).end();
      return;
    }
    pool.query('insert into peer_event (id, type, idempotency_key, headers, body) values ($1, $2, $3, $4, $5)', [
      randomUUID(), String(request.headers['x-github-event']), String(request.headers['x-github-delivery']), { 'x-github-event': request.headers['x-github-event'] }, body,
    ]).then(
      () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"accepted"}'),
      () => response.writeHead(503).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
// Exit on SIGTERM through process.exit, so a --cpu-prof profile is written.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
