import { createHmac, type KeyObject } from 'node:crypto';
import { whsecKey } from '../crypto/whsec.js';

/**
 * Standard Webhooks signature: `v1,<base64 HMAC-SHA256(id.timestamp.body)>` under the
 * base64-decoded part of each `whsec_` secret, space-separated when several secrets are live
 * (a rotation's grace period), so receivers holding either secret verify. A secret may come as
 * its HMAC key already decoded (a KeyObject, see opened-secrets.ts).
 */
export function signStandardWebhook(secrets: readonly (string | KeyObject)[], id: string, timestampSeconds: number, body: Buffer): string {
  return secrets
    .map((secret) => {
      const mac = createHmac('sha256', typeof secret === 'string' ? whsecKey(secret) : secret).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}
