import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { AttemptErrorClass } from '../../db/entities/attempt.js';
import { AttemptErrorClassEnum } from './enums.js';
import { PageInfo } from './page-info.js';

@ObjectType('Attempt', { description: 'One HTTP try of a delivery' })
export class AttemptType {
  @Field(() => ID)
  id!: string;

  @Field(() => Int)
  number!: number;

  @Field()
  startedAt!: Date;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => Int, { nullable: true })
  responseStatus!: number | null;

  @Field(() => AttemptErrorClassEnum, { nullable: true })
  errorClass!: AttemptErrorClass | null;

  @Field(() => String, { nullable: true })
  errorMessage!: string | null;

  @Field(() => String, { nullable: true, description: 'The first 4 KiB of the response body' })
  responseBodyExcerpt!: string | null;

  @Field(() => GraphQLJSON, { description: 'Headers as sent; extra-header values redacted' })
  requestHeaders!: Record<string, string>;
}

@ObjectType()
export class AttemptEdge {
  @Field()
  cursor!: string;

  @Field(() => AttemptType)
  node!: AttemptType;
}

@ObjectType()
export class AttemptConnection {
  @Field(() => [AttemptEdge])
  edges!: AttemptEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
