import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { ApiTokenScope } from '../../db/entities/api-token.js';
import { ApiTokenScopeEnum } from './enums.js';

@ObjectType('ApiToken', { description: 'A bearer token for the API; only its hash is stored' })
export class ApiTokenType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => ApiTokenScopeEnum)
  scope!: ApiTokenScope;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'After this instant the token is refused (401, websockets 4401; open sockets close with 4403); null never expires' })
  expiresAt!: Date | null;
}

@InputType()
export class CreateApiTokenInput {
  @Field()
  name!: string;

  @Field(() => ApiTokenScopeEnum)
  scope!: ApiTokenScope;

  @Field(() => Date, { nullable: true, description: 'When the token stops working; must lie in the future. Unset: never' })
  expiresAt?: Date | null;
}

@ObjectType({ description: 'A new token, shown this once' })
export class CreateApiTokenPayload {
  @Field(() => ApiTokenType)
  apiToken!: ApiTokenType;

  @Field()
  token!: string;
}
