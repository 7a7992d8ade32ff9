import { sealedAt } from '../../crypto/sealed-at.js';
import type { ClaimedRow } from '../build-request.js';
import { buildRequest } from '../build-request.js';
import type { HttpSender, SendOutcome } from '../http-sender.js';
import type { OpenedSecrets } from '../opened-secrets.js';
import type { AttemptContext, Destination } from './destination.js';

/**
 * An HTTP relay: the signed request of build-request.ts, sent by the HttpSender (SSRF guard,
 * proxies, deadline). The path every delivery took before destinations had kinds, unchanged.
 */
export class HttpDestination implements Destination {
  constructor(
    private readonly sender: HttpSender,
    private readonly secrets: OpenedSecrets,
    private readonly userAgent: string,
  ) {}

  send(row: ClaimedRow, attempt: AttemptContext): Promise<SendOutcome> {
    const request = buildRequest(row, this.secrets, this.userAgent, attempt.deliveryId, new Date(), attempt.traceparent);
    attempt.logged = request.logged;
    const proxyUrl = row.proxy_url_sealed ? this.secrets.text(row.proxy_url_sealed, sealedAt.relayProxyUrl(row.relay_id)) : row.proxy_url;
    return this.sender.send({ url: row.url, method: row.method, headers: request.headers, body: row.body, timeoutMs: row.timeout_ms, proxyUrl, relayId: row.relay_id, signal: attempt.signal, onSending: attempt.onSending });
  }

  async close(): Promise<void> {
    // The sender is shared with batched sends; its owner (the composition root) closes it.
  }
}
