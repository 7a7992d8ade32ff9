import { describe, expect, it } from 'vitest';
import { isSecretHeader, maskUrl, SIGNATURE_HEADERS, truncateSignatures, withoutPassword } from '../../src/crypto/redact.js';
import { presets } from '../../src/sources/presets/index.js';
import { ingestSource } from '../helpers/fixtures.js';

describe('maskUrl: what a READ token sees of a relay URL', () => {
  it.each([
    ['https://hooks.slack.com/services/T000/B000/XXXXXXXX', 'https://hooks.slack.com/***'],
    ['https://discord.com/api/webhooks/123/token-part', 'https://discord.com/***'],
    ['https://user:password@example.com/', 'https://example.com/***'],
    ['https://example.com:8443/hooks?key=abc', 'https://example.com:8443/***'],
    ['http://[::1]:9000/x', 'http://[::1]:9000/***'],
    ['https://example.com/?code=1', 'https://example.com/***'],
    ['https://example.com/#frag', 'https://example.com/***'],
    ['https://example.com', 'https://example.com/'],
    ['https://example.com:443/', 'https://example.com/'],
    ['not a url', '***'],
  ])('%s → %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it('withoutPassword keeps the rest of a URL', () => {
    expect(withoutPassword('http://user:pw@proxy.test:3128')).toBe('http://user:***@proxy.test:3128/');
    expect(withoutPassword('http://proxy.test:3128')).toBe('http://proxy.test:3128/');
  });
});

describe('truncateSignatures: what the attempt log keeps of a signature', () => {
  it.each([
    ['v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=', 'v1,…pI4='],
    ['v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=', 'v1,…pI4= v1,…1OE='],
    ['sha256=6ff13f9b1c2d3e4f', 'sha256=…3e4f'],
    ['abcdefgh', '…efgh'],
    ['v1,abc', 'v1,…'],
  ])('%s → %s', (value, truncated) => {
    expect(truncateSignatures(value)).toBe(truncated);
  });
});

describe('signature headers', () => {
  const source = ingestSource();
  it.each(Object.entries(presets))('every signature header of %s is never stored', (_name, preset) => {
    for (const name of preset.signatureHeaders(source)) {
      expect(SIGNATURE_HEADERS.includes(name) || name === 'x-signature', name).toBe(true);
      expect(isSecretHeader(name)).toBe(true);
    }
    for (const name of preset.keptHeaders) expect(isSecretHeader(name), name).toBe(false);
  });

  it('credentials and anything named like a signature are secret; ordinary headers are not', () => {
    for (const name of ['Authorization', 'proxy-authorization', 'Cookie', 'X-Acme-Signature', 'X-Webhook-HMAC']) expect(isSecretHeader(name), name).toBe(true);
    for (const name of ['content-type', 'x-github-event', 'x-shopify-topic', 'webhook-id']) expect(isSecretHeader(name), name).toBe(false);
  });
});
