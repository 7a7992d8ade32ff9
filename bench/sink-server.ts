import { createServer } from 'node:http';

/**
 * The receiver every benchmark delivers to, in a process of its own (so it does not share an
 * event loop with the load generator). It answers 200 at once, counts what arrives, and
 * remembers when each `bench-seq` arrived: GET /__stats returns them and resets. For the chaos
 * suite it also counts the copies of each delivery (`hookyard-delivery-id`) and the
 * `webhook-id`s they carried: GET /__receipts.
 */
const arrivals: Record<string, number> = {};
const receipts: Record<string, { copies: number; webhookIds: string[] }> = {};
let count = 0;
let firstAt = 0;
let lastAt = 0;
const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/__stats') {
    const body = JSON.stringify({ count, arrivals, firstAt, lastAt });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
    return;
  }
  if (request.method === 'GET' && request.url === '/__receipts') {
    const body = JSON.stringify(receipts);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
    return;
  }
  if (request.method === 'POST' && request.url === '/__reset') {
    count = 0;
    firstAt = 0;
    lastAt = 0;
    for (const key of Object.keys(arrivals)) delete arrivals[key];
    for (const key of Object.keys(receipts)) delete receipts[key];
    response.end('ok');
    return;
  }
  request.on('data', () => {});
  request.on('end', () => {
    count++;
    lastAt = Date.now();
    if (firstAt === 0) firstAt = lastAt;
    const seq = request.headers['x-bench-seq'] ?? request.headers['hookyard-delivery-id'];
    if (typeof seq === 'string' && process.env.RECORD !== '0') arrivals[seq] = Date.now();
    const deliveryId = request.headers['hookyard-delivery-id'];
    const webhookId = String(request.headers['webhook-id'] ?? '');
    if (typeof deliveryId === 'string' && process.env.RECORD !== '0') {
      const receipt = (receipts[deliveryId] ??= { copies: 0, webhookIds: [] });
      receipt.copies++;
      if (!receipt.webhookIds.includes(webhookId)) receipt.webhookIds.push(webhookId);
    }
    response.writeHead(200, { 'content-length': '2' });
    response.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
