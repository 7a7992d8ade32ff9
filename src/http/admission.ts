import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import { AppError } from '../errors.js';

/** Seconds a client is told to wait before trying again while this process starts or stops. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Which requests the HTTP server lets through, over the process's life: none but health
 * checks while it starts (503 with Retry-After, so a provider never sees a 404 for a source
 * whose route is not mounted yet), all once ready, none again while it drains on shutdown,
 * when the requests already received finish and are answered with `Connection: close`.
 */
export class Admission {
  private state: 'starting' | 'ready' | 'draining' = 'starting';
  /** Requests let through and not yet answered (or abandoned by their client). */
  private readonly inFlight = new Set<ServerResponse>();
  private idle: (() => void) | undefined;

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Everything is mounted: let requests through. */
  open(): void {
    if (this.state === 'starting') this.state = 'ready';
  }

  /** Why a request is not let through now, if it is not. */
  refusal(): AppError | undefined {
    if (this.state === 'starting') return new AppError('STARTING', 'Hookyard is starting; retry shortly', { retryAfter: RETRY_AFTER_SECONDS });
    if (this.state === 'draining') return new AppError('SHUTTING_DOWN', 'this Hookyard process is shutting down; retry (another replica may answer)', { retryAfter: RETRY_AFTER_SECONDS });
    return undefined;
  }

  /** Counts a request let through until its answer is sent or its connection is gone. */
  track(response: ServerResponse): void {
    if (this.state === 'draining') response.setHeader('connection', 'close');
    this.inFlight.add(response);
    response.once('close', () => {
      this.inFlight.delete(response);
      if (this.inFlight.size === 0) this.idle?.();
    });
  }

  /**
   * Stops taking connections and waits (at most `timeoutMs`) for the requests already
   * received to be answered. The listening socket closes at once (new connections are
   * refused), but open keep-alive connections stay: a request on one is answered 503 with
   * `Connection: close`, where closing it would race a request already on its way (a reset
   * the client cannot tell from a lost request). They are closed once the others are done.
   */
  async drain(server: Server, timeoutMs: number): Promise<void> {
    if (this.state === 'draining') return;
    this.state = 'draining';
    // net.Server's close: http.Server's own also closes idle keep-alive connections at once.
    NetServer.prototype.close.call(server);
    for (const response of this.inFlight) if (!response.headersSent) response.setHeader('connection', 'close');
    if (this.inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    server.closeIdleConnections();
  }
}
