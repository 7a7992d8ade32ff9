import type { SealContext } from './seal.js';

/**
 * Where each sealed value lives, named by its SQL column: the associated data it is sealed
 * with. `npm run reencrypt` builds the same contexts from the columns it finds, so a column
 * here must keep its SQL name.
 */
export const sealedAt = {
  sourceSecrets: (source: { id: string }): SealContext => ({ table: 'source', column: 'secrets', id: source.id }),
  sourcePassword: (source: { id: string }): SealContext => ({ table: 'source', column: 'basic_auth_password_sealed', id: source.id }),
  relayHeaders: (relayId: string): SealContext => ({ table: 'relay', column: 'headers_sealed', id: relayId }),
  relaySigningSecret: (relayId: string): SealContext => ({ table: 'relay', column: 'signing_secret_sealed', id: relayId }),
  relayPreviousSigningSecret: (relayId: string): SealContext => ({ table: 'relay', column: 'previous_signing_secret_sealed', id: relayId }),
  relayProxyUrl: (relayId: string): SealContext => ({ table: 'relay', column: 'proxy_url_sealed', id: relayId }),
  relaySmtpPassword: (relayId: string): SealContext => ({ table: 'relay', column: 'smtp_password_sealed', id: relayId }),
};
