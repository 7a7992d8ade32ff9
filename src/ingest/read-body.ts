import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.js';
import type { BodyLease } from './body-budget.js';

const busy = () => new AppError('INGEST_BUSY', 'too many request bodies are being received right now; retry later', { retryAfter: 2 });

/**
 * Reads the body up to `limit` bytes, reserving what it holds from the global body budget
 * (`lease`). A declared or streamed size past the limit rejects at once without reading the
 * rest, so an oversized body never sits in memory; so does a body the budget cannot hold.
 */
export function readBody(request: IncomingMessage, limit: number, lease: BodyLease): Promise<Buffer> {
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `body is larger than this source's limit of ${limit} bytes`);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  if (Number.isFinite(declared) && declared > 0 && !lease.take(declared)) return Promise.reject(busy());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: AppError) => {
      cleanup();
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return stop(tooLarge());
      // Past a declared length (or without one) every byte is reserved as it arrives.
      if (size > lease.bytes && !lease.take(size - lease.bytes)) return stop(busy());
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // A sender that goes away mid-body (or is timed out) is its own doing, not a server error.
    const onGone = () => stop(new AppError('BAD_REQUEST', 'the connection closed before the body was complete'));
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onGone);
      request.off('close', onGone);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onGone);
    request.on('close', onGone);
  });
}
