import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.js';

@ObjectType('RejectedRequest', { description: 'An ingest request that was refused, and why (never its body or signature)' })
export class RejectedRequestType {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true })
  sourceId!: string | null;

  @Field()
  slug!: string;

  @Field({ description: 'A code such as INVALID_SIGNATURE, MISSING_HEADER, PAYLOAD_TOO_LARGE' })
  reason!: string;

  @Field()
  message!: string;

  @Field(() => Int)
  status!: number;

  @Field(() => Int, { nullable: true })
  bodyBytes!: number | null;

  @Field(() => String, { nullable: true })
  remoteAddress!: string | null;

  @Field()
  receivedAt!: Date;
}

@ObjectType()
export class RejectedRequestEdge {
  @Field()
  cursor!: string;

  @Field(() => RejectedRequestType)
  node!: RejectedRequestType;
}

@ObjectType()
export class RejectedRequestConnection {
  @Field(() => [RejectedRequestEdge])
  edges!: RejectedRequestEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class RejectedRequestFilter {
  @Field(() => ID, { nullable: true })
  sourceId?: string | null;

  @Field(() => String, { nullable: true })
  reason?: string | null;

  @Field(() => Date, { nullable: true })
  receivedAfter?: Date | null;

  @Field(() => Date, { nullable: true })
  receivedBefore?: Date | null;
}
