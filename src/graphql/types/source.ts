import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { SOURCE_PRESETS, type SourcePreset } from '../../db/entities/source.js';

export const SourcePresetEnum = Object.fromEntries(SOURCE_PRESETS.map((p) => [p, p])) as { [K in SourcePreset]: K };
registerEnumType(SourcePresetEnum, { name: 'SourcePreset', description: 'How a source verifies its webhooks' });

@ObjectType('Source', { description: 'An inbound endpoint, POST /ingest/:slug' })
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

  @Field({ description: 'The URL providers post to' })
  ingestUrl!: string;

  @Field({ description: 'Whether at least one secret is stored; secrets themselves are write-only' })
  hasSecret!: boolean;
}
