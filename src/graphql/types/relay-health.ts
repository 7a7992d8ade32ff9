import { Field, Float, Int, ObjectType } from 'type-graphql';
import { AttemptErrorClassEnum } from './enums.js';
import type { AttemptErrorClass } from '../../db/entities/attempt.js';

@ObjectType({ description: 'The latest failed attempt among the newest deliveries of each status (50 of each) within the retention window' })
export class RelayError {
  @Field()
  at!: Date;

  @Field(() => AttemptErrorClassEnum)
  errorClass!: AttemptErrorClass;

  @Field(() => Int, { nullable: true })
  responseStatus!: number | null;

  @Field(() => String, { nullable: true })
  message!: string | null;
}

@ObjectType({ description: 'How a relay has fared lately: attempts of the last hour and the latest error. Read from its newest deliveries only (never its whole history), so a busy relay costs what a quiet one does' })
export class RelayHealth {
  @Field(() => Int, { description: 'Attempts started in the last hour, of the newest 1,000 deliveries created in the last hour' })
  attemptsLastHour!: number;

  @Field(() => Int, { description: 'Of those, the ones answered with a 2xx' })
  succeededLastHour!: number;

  @Field(() => Float, { nullable: true, description: 'succeededLastHour / attemptsLastHour, from 0 to 1; null without attempts' })
  successRate!: number | null;

  @Field(() => RelayError, { nullable: true })
  lastError!: RelayError | null;
}
