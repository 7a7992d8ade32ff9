import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('Relay', { description: 'A destination that subscribed events are delivered to' })
export class RelayType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  url!: string;

  @Field()
  enabled!: boolean;

  @Field(() => String, { nullable: true })
  disabledReason!: string | null;

  @Field(() => [Int], { description: 'Whole seconds between tries after the first' })
  retrySchedule!: number[];

  @Field(() => Int)
  timeoutMs!: number;

  @Field({ description: 'Enough of the signing secret to tell two apart, e.g. whsec_…a1b2' })
  signingSecretHint!: string;
}
