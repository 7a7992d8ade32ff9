import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.js';
import type { BodyLease } from './body-budget.js';

/** The one capped body reader: ingest, the GraphQL handler and the HTTP server's refusals. */
export interface BodyCap {
  /** The most bytes a body may have. */
  limit: number;
  /** The refusal of a larger body (PAYLOAD_TOO_LARGE, naming whose limit it is). */
  tooLarge(): AppError;
  /** Ingest's share of the global body budget: what the body holds is reserved from it. */
  lease?: BodyLease;
}

const busy = () => new AppError('INGEST_BUSY', 'too many request bodies are being received right now; retry later', { retryAfter: 2 });

/**
 * Reads the body up to `cap.limit` bytes, reserving what it holds from the lease when there
 * is one. A declared or streamed size past the limit rejects at once without reading the
 * rest, so an oversized body never sits in memory; so does a body the budget cannot hold.
 * A sender that goes away mid-body is a BAD_REQUEST.
 */
export function readBody(request: IncomingMessage, cap: BodyCap): Promise<Buffer> {
  const { limit, tooLarge, lease } = cap;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  if (lease && Number.isFinite(declared) && declared > 0 && !lease.take(declared)) return Promise.reject(busy());
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
      if (lease && size > lease.bytes && !lease.take(size - lease.bytes)) return stop(busy());
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
