import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { SourcePreset } from '../../db/entities/source.js';
import { SourcePresetEnum } from './enums.js';

@ObjectType('Source', { description: 'An inbound endpoint, POST /ingest/:slug. Secrets are write-only.' })
export class SourceType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  slug!: string;

  @Field(() => SourcePresetEnum)
  preset!: SourcePreset;

  @Field()
  enabled!: boolean;

  @Field({ description: 'The built-in source of Hookyard\'s operational events (delivery.dead, relay.failing, relay.disabled, relay.recovered, source.rejecting): subscribe a relay to it by naming its id in sourceIds; it cannot be changed, deleted or posted to' })
  builtIn!: boolean;

  @Field({ description: 'The URL providers post to' })
  ingestUrl!: string;

  @Field({ description: 'Whether a live secret is stored; secrets themselves are never shown' })
  hasSecret!: boolean;

  @Field(() => Int, { description: 'Secrets that still verify (several during a rotation)' })
  liveSecretCount!: number;

  @Field(() => String, { nullable: true })
  basicAuthUsername!: string | null;

  @Field(() => Int, { nullable: true })
  toleranceSeconds!: number | null;

  @Field(() => Int)
  maxBodyBytes!: number;

  @Field(() => String, { nullable: true })
  publicUrl!: string | null;

  @Field()
  requireIdempotencyKey!: boolean;

  @Field(() => Int, { nullable: true, description: 'Verified requests per second before 429; null = unlimited' })
  rateLimitPerSecond!: number | null;

  @Field(() => [String], { nullable: true, description: 'Addresses or CIDRs allowed to post; null = any address' })
  allowedCidrs!: string[] | null;

  @Field(() => Int, { nullable: true, description: 'Content dedupe window in seconds; null = off' })
  dedupeWindowSeconds!: number | null;

  @Field(() => String, { nullable: true })
  signatureHeader!: string | null;

  @Field(() => String, { nullable: true })
  signatureAlgorithm!: string | null;

  @Field(() => String, { nullable: true })
  signatureEncoding!: string | null;

  @Field(() => String, { nullable: true })
  signaturePrefix!: string | null;

  @Field(() => String, { nullable: true })
  timestampHeader!: string | null;

  @Field(() => String, { nullable: true })
  eventTypeFrom!: string | null;

  @Field(() => String, { nullable: true })
  idempotencyKeyFrom!: string | null;

  @Field(() => [String], { description: 'Headers stored on events besides the preset\'s allow-list (lower case)' })
  keepHeaders!: string[];

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}
