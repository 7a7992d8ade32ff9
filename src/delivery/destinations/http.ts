import { sealedAt } from '../../crypto/sealed-at.js';
import type { ClaimedRow } from '../build-request.js';
import { batchBody, buildBatchRequest, buildRequest } from '../build-request.js';
import type { HttpSender, SendOutcome } from '../http-sender.js';
import type { OpenedSecrets } from '../opened-secrets.js';
import type { AttemptContext, BatchingDestination } from './destination.js';

/**
 * An HTTP relay: the signed request of build-request.ts, sent by the HttpSender (SSRF guard,
 * proxies, deadline), for one delivery or for a batch of them (one JSON array, signed once):
 * the one home of what a relay's request is.
 */
export class HttpDestination implements BatchingDestination {
  constructor(
    private readonly sender: HttpSender,
    private readonly secrets: OpenedSecrets,
    private readonly userAgent: string,
  ) {}

  send(row: ClaimedRow, attempt: AttemptContext): Promise<SendOutcome> {
    const request = buildRequest(row, this.secrets, this.userAgent, attempt.deliveryId, new Date(), attempt.traceparent);
    attempt.logged = request.logged;
    return this.post(row, request.headers, row.body, attempt);
  }

  sendBatch(relay: ClaimedRow, items: readonly string[], webhookId: string, attempt: AttemptContext): Promise<SendOutcome> {
    const body = batchBody(items);
    const request = buildBatchRequest(relay, body, items.length, webhookId, this.secrets, this.userAgent, new Date());
    attempt.logged = request.logged;
    return this.post(relay, request.headers, body, attempt);
  }

  private post(row: ClaimedRow, headers: Record<string, string>, body: Buffer, attempt: AttemptContext): Promise<SendOutcome> {
    const proxyUrl = row.proxy_url_sealed ? this.secrets.text(row.proxy_url_sealed, sealedAt.relayProxyUrl(row.relay_id)) : row.proxy_url;
    return this.sender.send({ url: row.url, method: row.method, headers, body, timeoutMs: row.timeout_ms, proxyUrl, relayId: row.relay_id, signal: attempt.signal, onSending: attempt.onSending });
  }

  async close(): Promise<void> {
    // The sender is shared with the composition root, which closes it.
  }
}
