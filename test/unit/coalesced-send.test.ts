import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { coalesceSends, EARLY_ACK_BYTES } from '../../src/http/coalesced-send.js';

interface Served {
  server: Server;
  client: WebSocket;
  /** The server side of the socket. */
  ws: WebSocket;
  /** Writes the server's TCP socket made (each a system call and a segment). */
  writes(): number;
}

const opened: Served[] = [];

/** A real ws server on 127.0.0.1 whose sockets send as ws-server.ts makes them send. */
async function serve(): Promise<Served> {
  const wss = new WebSocketServer({ noServer: true });
  let writes = 0;
  const server: Server = createServer();
  const connected = new Promise<WebSocket>((resolve) => {
    server.on('upgrade', (request, raw: Duplex, head) => {
      // Counted below the cork: what reaches the socket, not what ws hands it.
      const stream = raw as Duplex & { _write: Duplex['_write']; _writev?: Duplex['_writev'] };
      const write = stream._write.bind(stream);
      const writev = stream._writev?.bind(stream);
      stream._write = (...args) => ((writes += 1), write(...args));
      if (writev) stream._writev = (...args) => ((writes += 1), writev(...args));
      wss.handleUpgrade(request, raw, head, (ws) => {
        coalesceSends(ws, raw);
        resolve(ws);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await new Promise((resolve) => client.once('open', resolve));
  const served = { server, client, ws: await connected, writes: () => writes };
  opened.push(served);
  return served;
}

/** As graphql-ws sends: the next frame only once the previous send's callback came. */
const sendAwaited = (ws: WebSocket, data: string | Buffer) => new Promise<void>((resolve, reject) => ws.send(data, (error) => (error ? reject(error) : resolve())));

afterEach(async () => {
  for (const { server, client } of opened.splice(0)) {
    client.terminate();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('coalesceSends', () => {
  it('sends the frames of one turn, each awaited as graphql-ws awaits them, in one write, in order', async () => {
    const { client, ws, writes } = await serve();
    const received: string[] = [];
    const all = new Promise<void>((resolve) => client.on('message', (data) => received.push(String(data)) === 20 && resolve()));
    const before = writes();
    await (async () => {
      for (let n = 1; n <= 20; n++) await sendAwaited(ws, `frame ${n}`);
    })();
    await all;
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `frame ${i + 1}`));
    expect(writes() - before).toBe(1);
  });

  it('holds the sender back once a client that stops reading leaves EARLY_ACK_BYTES waiting', async () => {
    const { client, ws } = await serve();
    client.pause();
    const frame = Buffer.alloc(256 * 1024, 1);
    let acknowledged = 0;
    for (;;) {
      const acked = await Promise.race([sendAwaited(ws, frame).then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 300))]);
      if (!acked) break;
      acknowledged += 1;
      // The kernel takes a few MiB on loopback; past that ws keeps the rest, and the wait begins.
      expect(acknowledged, 'every send was acknowledged though the client reads nothing').toBeLessThan(400);
    }
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(EARLY_ACK_BYTES);
  });
});
