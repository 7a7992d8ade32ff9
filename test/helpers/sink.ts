import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface SinkAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the answer this long (a slow receiver). */
  delayMs?: number;
}

/** A real HTTP receiver on 127.0.0.1 that plays the relay's destination and records what arrives. */
export interface Sink {
  url: string;
  received: ReceivedRequest[];
  /** Decides each answer; the n-th request (from 0). Default: 200. */
  answer: (index: number, request: ReceivedRequest) => SinkAnswer;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const received: ReceivedRequest[] = [];
  const sink: Sink = {
    url: '',
    received,
    answer: () => ({ status: 200, body: 'ok' }),
    waitFor: (count, timeoutMs = 20_000) => waitUntil(() => (received.length >= count ? received : undefined), timeoutMs, `${count} requests at the sink (got ${received.length})`),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry: ReceivedRequest = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks), at: Date.now() };
      const index = received.length;
      received.push(entry);
      const answer = sink.answer(index, entry);
      const reply = () => {
        response.writeHead(answer.status, answer.headers ?? {});
        response.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return sink;
}

/** Polls `check` until it returns a value, or fails after `timeoutMs` naming what it waited for. */
export async function waitUntil<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
