import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.js';

@ObjectType('RejectedRequest', { description: 'Ingest requests that were refused, and why (never a body or signature), aggregated per source, reason, address and minute' })
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

  @Field(() => String, { nullable: true, description: 'The client address prefix (IPv4 address, IPv6 /64)' })
  remoteAddress!: string | null;

  @Field(() => Int, { description: 'Refusals in this row: same source (or unknown slug, then `slug` is a sample), reason, address and minute' })
  count!: number;

  @Field({ description: 'When the first refusal of this row arrived' })
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
