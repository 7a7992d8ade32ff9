import { Field, ObjectType } from 'type-graphql';
import type { ApiTokenScope } from '../../db/entities/api-token.js';
import { ApiTokenScopeEnum } from './enums.js';

@ObjectType({ description: 'The token this request acts as: what a client may offer its user (READ: no mutation; PUBLISH: nothing but publishEvent)' })
export class Viewer {
  @Field({ description: 'The token\'s name (the environment admin token has none of its own)' })
  tokenName!: string;

  @Field(() => ApiTokenScopeEnum)
  scope!: ApiTokenScope;
}
