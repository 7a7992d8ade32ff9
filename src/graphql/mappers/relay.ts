import type { Keyring } from '../../crypto/keyring.js';
import { unseal } from '../../crypto/seal.js';
import { sealedAt } from '../../crypto/sealed-at.js';
import type { Relay } from '../../db/entities/relay.js';
import { DEFAULT_SCHEDULE_SECONDS } from '../../delivery/retry-policy.js';
import { DEFAULT_SUBJECT } from '../../delivery/destinations/subject-template.js';
import type { RelayType } from '../types/relay.js';

function headerNames(relay: Relay, keyring: Keyring): string[] {
  if (!relay.headersSealed) return [];
  try {
    return (JSON.parse(unseal(keyring, relay.headersSealed, sealedAt.relayHeaders(relay.id))) as { name: string }[]).map((h) => h.name);
  } catch {
    // Sealed under a key this process does not hold: the relay reports it when used.
    return [];
  }
}

/** The stored relay; `url` and `proxyUrl` are as stored and shown through RelayResolver's field resolvers. */
export function toRelayType(relay: Relay, keyring: Keyring): RelayType {
  return {
    id: relay.id,
    name: relay.name,
    kind: relay.kind,
    email: relay.kind === 'EMAIL' && relay.smtpHost
      ? {
          host: relay.smtpHost, port: relay.smtpPort!, tls: relay.smtpTls ?? 'STARTTLS', username: relay.smtpUser ?? null, passwordSet: Boolean(relay.smtpPasswordSealed),
          from: relay.emailFrom!, to: relay.emailTo ?? [], subject: relay.emailSubject ?? DEFAULT_SUBJECT,
        }
      : null,
    url: relay.url,
    method: relay.method,
    enabled: relay.enabled,
    disabledReason: relay.disabledReason ?? null,
    retrySchedule: relay.retrySchedule ?? [...DEFAULT_SCHEDULE_SECONDS],
    timeoutMs: relay.timeoutMs,
    maxAgeSeconds: relay.maxAgeSeconds ?? null,
    maxConcurrency: relay.maxConcurrency,
    rateLimitPerSecond: relay.rateLimitPerSecond ?? null,
    proxyUrl: relay.proxyUrl ?? null,
    headerNames: headerNames(relay, keyring),
    signingSecretHint: relay.signingSecretHint,
    previousSecretExpiresAt: relay.previousSigningSecretExpiresAt && relay.previousSigningSecretExpiresAt > new Date() ? relay.previousSigningSecretExpiresAt : null,
    batch: relay.batchMaxEvents ? { maxEvents: relay.batchMaxEvents, maxBytes: relay.batchMaxBytes!, maxWaitMs: relay.batchMaxWaitMs! } : null,
    orderingKeyFrom: relay.orderingKeyFrom ?? null,
    orderingOnDead: relay.orderingOnDead,
    consecutiveDead: relay.consecutiveDead,
    lastSuccessAt: relay.lastSuccessAt ?? null,
    createdAt: relay.createdAt,
    updatedAt: relay.updatedAt,
  };
}
