import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { RelayType } from './relay.js';

@ObjectType('EventSubscription', { description: 'A routing rule: which events go to which relay' })
export class EventSubscriptionType {
  @Field(() => ID)
  id!: string;

  @Field(() => RelayType)
  relay?: RelayType;

  /** Resolved into `relay` by the field resolver (batched). */
  relayId!: string;

  @Field(() => [ID], { nullable: true })
  sourceIds!: string[] | null;

  @Field(() => [String])
  eventTypes!: string[];

  @Field(() => GraphQLJSON, { nullable: true })
  filter!: unknown;

  @Field(() => [String], { nullable: true })
  forwardHeaders!: string[] | null;

  @Field()
  enabled!: boolean;

  @Field()
  createdAt!: Date;
}
