import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { DeliveryStatus } from '../../db/entities/delivery.js';
import { DeliveryStatusEnum } from './enums.js';
import { EventType } from './event.js';
import { PageInfo } from './page-info.js';
import { RelayType } from './relay.js';
import { EventSubscriptionType } from './subscription.js';

@ObjectType('Delivery', { description: 'One event for one relay' })
export class DeliveryType {
  @Field(() => ID)
  id!: string;

  @Field(() => DeliveryStatusEnum)
  status!: DeliveryStatus;

  @Field(() => Int)
  attemptCount!: number;

  @Field(() => Date, { nullable: true })
  nextAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true })
  lastAttemptAt!: Date | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => String, { nullable: true, description: "Its relay orders deliveries by key (orderingKeyFrom): this delivery's key (a key longer than 200 characters, or holding NUL, as sha256:<hex>); null: unordered" })
  orderingKey!: string | null;

  @Field(() => String, { nullable: true, description: 'Why a delivery of an ordered relay goes unordered: its event had no usable value at orderingKeyFrom' })
  unorderedReason!: string | null;

  @Field(() => ID, { nullable: true, description: "The batch it was last sent in (a batching relay): the request's webhook-id, the same on every retry of that batch; null when it went alone" })
  batchId!: string | null;

  @Field(() => String, { nullable: true, description: 'In deliveryUpdated items only: this status change\'s place in the feed; pass it as after to resume right after it' })
  feedCursor?: string | null;

  @Field(() => EventType)
  event?: EventType;

  @Field(() => RelayType)
  relay?: RelayType;

  @Field(() => EventSubscriptionType, { nullable: true, description: 'The routing rule that made this delivery: null for a direct send (sendTestEvent, an alert) or once the rule is deleted' })
  subscription?: EventSubscriptionType | null;

  eventId!: string;
  relayId!: string;
  /** Kept when the rule is deleted (no foreign key): `deliveries(filter: { subscriptionId })` still finds its history. */
  subscriptionId!: string | null;
}

@ObjectType()
export class DeliveryEdge {
  @Field()
  cursor!: string;

  @Field(() => DeliveryType)
  node!: DeliveryType;
}

@ObjectType()
export class DeliveryConnection {
  @Field(() => [DeliveryEdge])
  edges!: DeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class DeliveryFilter {
  @Field(() => ID, { nullable: true })
  eventId?: string | null;

  @Field(() => ID, { nullable: true })
  relayId?: string | null;

  @Field(() => ID, { nullable: true, description: 'What one routing rule sent (also after the rule was deleted)' })
  subscriptionId?: string | null;

  @Field(() => ID, { nullable: true })
  sourceId?: string | null;

  @Field(() => [DeliveryStatusEnum], { nullable: true })
  status?: DeliveryStatus[] | null;

  @Field(() => String, { nullable: true, description: 'Exact event type' })
  eventType?: string | null;

  @Field(() => Date, { nullable: true })
  createdAfter?: Date | null;

  @Field(() => Date, { nullable: true })
  createdBefore?: Date | null;
}
