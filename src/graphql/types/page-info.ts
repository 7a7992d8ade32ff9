import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Relay-style page information' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page' })
  endCursor!: string | null;
}
