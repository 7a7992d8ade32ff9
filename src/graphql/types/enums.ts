import { registerEnumType } from 'type-graphql';
import { ATTEMPT_ERROR_CLASSES, type AttemptErrorClass } from '../../db/entities/attempt.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../db/entities/delivery.js';
import { SOURCE_PRESETS, type SourcePreset } from '../../db/entities/source.js';
import { API_TOKEN_SCOPES, type ApiTokenScope } from '../../db/entities/api-token.js';
import { ORDERING_ON_DEAD, RELAY_KINDS, SMTP_TLS_MODES, type OrderingOnDead, type RelayKind, type SmtpTls } from '../../db/entities/relay.js';

/** GraphQL enums are the entity's string unions, so values pass through without mapping. */
function enumOf<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}

export const SourcePresetEnum = enumOf<SourcePreset>(SOURCE_PRESETS);
registerEnumType(SourcePresetEnum, { name: 'SourcePreset', description: 'How a source verifies its webhooks' });

export const DeliveryStatusEnum = enumOf<DeliveryStatus>(DELIVERY_STATUSES);
registerEnumType(DeliveryStatusEnum, { name: 'DeliveryStatus', description: 'Where one event stands with one relay' });

export const AttemptErrorClassEnum = enumOf<AttemptErrorClass>(ATTEMPT_ERROR_CLASSES);
registerEnumType(AttemptErrorClassEnum, { name: 'AttemptErrorClass', description: 'Why an attempt failed' });

export const ApiTokenScopeEnum = enumOf<ApiTokenScope>(API_TOKEN_SCOPES);
registerEnumType(ApiTokenScopeEnum, { name: 'ApiTokenScope', description: 'ADMIN may mutate; READ may query and subscribe; PUBLISH may only call publishEvent (and read viewer)' });

export const OrderingOnDeadEnum = enumOf<OrderingOnDead>(ORDERING_ON_DEAD);
registerEnumType(OrderingOnDeadEnum, {
  name: 'OrderingOnDead',
  description: 'What an ordered relay does when the head of a key ends DEAD',
  valuesConfig: {
    CONTINUE: { description: 'The next delivery of the key goes; the DEAD one, retried later, joins the back of its key (the default)' },
    HOLD: { description: 'The key waits until an operator retries or cancels its DEAD head' },
  },
});

export const RelayKindEnum = enumOf<RelayKind>(RELAY_KINDS);
registerEnumType(RelayKindEnum, {
  name: 'RelayKind',
  description: 'Where a relay delivers',
  valuesConfig: {
    HTTP: { description: 'A signed HTTP request to url (the default)' },
    EMAIL: { description: 'An email through an SMTP server (email settings); url is smtp://host:port' },
  },
});

export const SmtpTlsEnum = enumOf<SmtpTls>(SMTP_TLS_MODES);
registerEnumType(SmtpTlsEnum, {
  name: 'SmtpTls',
  description: 'How an email relay secures its SMTP connection',
  valuesConfig: {
    STARTTLS: { description: 'Plain connection upgraded with STARTTLS, which the server must offer (default port 587; the default)' },
    TLS: { description: 'TLS from the first byte (default port 465)' },
    NONE: { description: 'No TLS (default port 25): a relay on a trusted network; credentials are refused' },
  },
});
