import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { OrderingOnDead, RelayKind, SmtpTls } from '../../db/entities/relay.js';
import { OrderingOnDeadEnum, RelayKindEnum, SmtpTlsEnum } from './enums.js';

@ObjectType('EmailSettings', { description: 'Where an EMAIL relay sends its mail (the password is never shown)' })
export class EmailSettingsType {
  @Field({ description: 'The SMTP server' })
  host!: string;

  @Field(() => Int)
  port!: number;

  @Field(() => SmtpTlsEnum)
  tls!: SmtpTls;

  @Field(() => String, { nullable: true })
  username!: string | null;

  @Field({ description: 'Whether a password is stored (sealed); the password itself is never returned' })
  passwordSet!: boolean;

  @Field({ description: 'The sender address' })
  from!: string;

  @Field(() => [String], { description: 'Recipient addresses' })
  to!: string[];

  @Field({ description: 'The subject template: {{type}}, {{id}}, {{source}} or a dotted path into the JSON body such as {{data.customer.email}}' })
  subject!: string;
}

@ObjectType('RelayBatch', { description: 'How a batching relay groups deliveries into one request' })
export class RelayBatchType {
  @Field(() => Int, { description: 'Events per request at most' })
  maxEvents!: number;

  @Field(() => Int, { description: 'Request body bytes at most (an event larger than this goes in a batch of its own)' })
  maxBytes!: number;

  @Field(() => Int, { description: 'How long a batch waits for more events after its first, in milliseconds' })
  maxWaitMs!: number;
}

@ObjectType('Relay', { description: 'A destination that subscribed events are delivered to' })
export class RelayType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => RelayKindEnum, { description: 'HTTP: a signed request to url; EMAIL: an email through the SMTP server of email' })
  kind!: RelayKind;

  @Field(() => EmailSettingsType, { nullable: true, description: 'EMAIL relays only' })
  email!: EmailSettingsType | null;

  @Field({ description: 'HTTP: the receiver. EMAIL: smtp://host:port (smtps:// with implicit TLS), derived from email. The whole URL for ADMIN tokens; for READ tokens scheme, host and port only, with credentials, path and query masked (https://hooks.slack.com/***)' })
  url!: string;

  @Field()
  method!: string;

  @Field()
  enabled!: boolean;

  @Field(() => String, { nullable: true })
  disabledReason!: string | null;

  @Field(() => [Int], { description: 'Whole seconds between tries after the first' })
  retrySchedule!: number[];

  @Field(() => Int)
  timeoutMs!: number;

  @Field(() => Int, { nullable: true })
  maxAgeSeconds!: number | null;

  @Field(() => Int)
  maxConcurrency!: number;

  @Field(() => Int, { nullable: true })
  rateLimitPerSecond!: number | null;

  @Field(() => String, { nullable: true, description: 'Never with its password; for READ tokens masked like url' })
  proxyUrl!: string | null;

  @Field(() => [String], { description: 'Names of the extra headers; their values are never shown' })
  headerNames!: string[];

  @Field({ description: 'Enough of the signing secret to tell two apart, e.g. whsec_…a1b2' })
  signingSecretHint!: string;

  @Field(() => Date, { nullable: true, description: 'Until then the previous signing secret also signs (after rotateRelaySecret)' })
  previousSecretExpiresAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Where the ordering key comes from (json:$.a.b, header:Name or idempotencyKey): deliveries of one key go one at a time, in acceptance order; null: no ordering' })
  orderingKeyFrom!: string | null;

  @Field(() => OrderingOnDeadEnum, { description: 'With orderingKeyFrom: what a DEAD head does to its key' })
  orderingOnDead!: OrderingOnDead;

  @Field(() => RelayBatchType, { nullable: true, description: 'Set: deliveries go as JSON arrays, one signed request per batch; null: one request per delivery' })
  batch!: RelayBatchType | null;

  @Field(() => Int, { description: 'Deliveries in a row that ended DEAD (auto-disable counts these)' })
  consecutiveDead!: number;

  @Field(() => Date, { nullable: true })
  lastSuccessAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType({ description: 'A new relay and its signing secret, shown this once' })
export class CreateRelayPayload {
  @Field(() => RelayType)
  relay!: RelayType;

  @Field()
  signingSecret!: string;
}

@ObjectType({ description: 'The relay and its new signing secret, shown this once' })
export class RotateRelaySecretPayload {
  @Field(() => RelayType)
  relay!: RelayType;

  @Field()
  signingSecret!: string;
}
