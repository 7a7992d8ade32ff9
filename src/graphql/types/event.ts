import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.js';
import { SourceType } from './source.js';

@ObjectType('Event', { description: 'One accepted inbound webhook or published event' })
export class EventType {
  @Field(() => ID, { description: 'Also the webhook-id header of every delivery' })
  id!: string;

  @Field()
  type!: string;

  @Field(() => SourceType, { nullable: true, description: 'Null for published events' })
  source?: SourceType | null;

  sourceId!: string | null;

  @Field(() => String, { nullable: true })
  idempotencyKey!: string | null;

  @Field()
  receivedAt!: Date;

  @Field(() => String, { nullable: true })
  contentType!: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'The body parsed as JSON; null when it is not JSON' })
  payload?: unknown;

  @Field(() => String, { description: 'The raw body as UTF-8 text (binary bytes replaced)' })
  body?: string;

  @Field(() => String, { nullable: true, description: 'In eventReceived items only: this event\'s place in the feed; pass it as after to resume right after it' })
  feedCursor?: string | null;

  @Field(() => GraphQLJSON, { description: 'Provider headers kept with the event (never signatures or credentials)' })
  headers!: Record<string, string>;

  rawBody!: Buffer;
}

@ObjectType()
export class EventEdge {
  @Field()
  cursor!: string;

  @Field(() => EventType)
  node!: EventType;
}

@ObjectType()
export class EventConnection {
  @Field(() => [EventEdge])
  edges!: EventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class EventFilter {
  @Field(() => ID, { nullable: true })
  sourceId?: string | null;

  @Field(() => String, { nullable: true, description: 'Exact event type' })
  type?: string | null;

  @Field(() => String, { nullable: true })
  idempotencyKey?: string | null;

  @Field(() => Date, { nullable: true })
  receivedAfter?: Date | null;

  @Field(() => Date, { nullable: true })
  receivedBefore?: Date | null;
}
