import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { PageInfo } from './page-info.js';

@ObjectType('AuditEntry', { description: 'One mutation someone ran, refused ones included; never an argument value' })
export class AuditEntryType {
  @Field(() => ID)
  id!: string;

  @Field()
  occurredAt!: Date;

  @Field(() => ID, { nullable: true, description: 'Null for the HOOKYARD_ADMIN_TOKEN environment token' })
  tokenId!: string | null;

  @Field({ description: 'The token\'s name when it acted ("environment admin token" for HOOKYARD_ADMIN_TOKEN)' })
  tokenName!: string;

  @Field({ description: 'The mutation, e.g. updateRelay' })
  operation!: string;

  @Field(() => ID, { nullable: true, description: 'What it acted on: its id argument, or the id of what it created' })
  targetId!: string | null;

  @Field({ description: 'OK, or the error\'s code: FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, …' })
  outcome!: string;

  @Field(() => [String], { description: 'The arguments given, by name only (input.url, input.headers), never their values' })
  argumentNames!: string[];
}

@ObjectType()
export class AuditLogEdge {
  @Field()
  cursor!: string;

  @Field(() => AuditEntryType)
  node!: AuditEntryType;
}

@ObjectType()
export class AuditLogConnection {
  @Field(() => [AuditLogEdge])
  edges!: AuditLogEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class AuditLogFilter {
  @Field(() => ID, { nullable: true })
  tokenId?: string | null;

  @Field(() => String, { nullable: true })
  operation?: string | null;

  @Field(() => ID, { nullable: true })
  targetId?: string | null;

  @Field(() => String, { nullable: true, description: 'OK or an error code' })
  outcome?: string | null;

  @Field(() => Date, { nullable: true })
  occurredAfter?: Date | null;

  @Field(() => Date, { nullable: true })
  occurredBefore?: Date | null;
}
