import { AppError } from '../../errors.js';
import { header } from '../request.js';
import { hmac, safeEqual } from '../verify.js';
import type { Preset } from './preset.js';

const SIGNATURE_HEADER = 'x-hub-signature-256';
/** The exact format GitHub's own verifier requires. */
const FORMAT = /^sha256=[0-9a-f]{64}$/;

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`, no timestamp; dedupe on the delivery id. */
export const github: Preset = {
  requiresJson: false,
  // GitHub also sends the legacy SHA-1 `X-Hub-Signature`: unchecked, and never stored either.
  signatureHeaders: () => [SIGNATURE_HEADER, 'x-hub-signature'],
  keptHeaders: ['x-github-event', 'x-github-delivery', 'x-github-hook-id', 'x-github-hook-installation-target-id', 'x-github-hook-installation-target-type'],
  verify(request, source) {
    const signature = header(request, SIGNATURE_HEADER);
    if (signature === undefined) throw new AppError('MISSING_SIGNATURE', 'missing X-Hub-Signature-256 header');
    if (!FORMAT.test(signature)) throw new AppError('MALFORMED_SIGNATURE', 'X-Hub-Signature-256 must be sha256= followed by 64 lowercase hex characters');
    const given = Buffer.from(signature.slice('sha256='.length), 'hex');
    if (!source.secrets.some((secret) => safeEqual(hmac('sha256', secret, request.body), given))) {
      throw new AppError('INVALID_SIGNATURE', 'X-Hub-Signature-256 does not match the body under any of the source secrets');
    }
  },
  eventType: { from: 'header', name: 'x-github-event' },
  eventTypeRequired: true,
  idempotencyKey: { from: 'header', name: 'x-github-delivery' },
};
