import { OptionalProps } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { newId } from '../../ids.js';
import { Relay } from './relay.js';

/** A routing rule: which events go to which relay. */
@Entity({ tableName: 'event_subscription' })
export class EventSubscription {
  [OptionalProps]?: 'id' | 'enabled' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Index()
  @ManyToOne(() => Relay, { deleteRule: 'cascade' })
  relay!: Relay;

  /** Null or empty: every source, published events included. */
  @Property({ type: 'json', nullable: true })
  sourceIds?: string[] | null;

  @Property({ type: 'json' })
  eventTypes!: string[];

  @Property({ type: 'json', nullable: true })
  filter?: unknown;

  @Property({ type: 'json', nullable: true })
  forwardHeaders?: string[] | null;

  @Property({ type: 'boolean', default: true })
  enabled: boolean = true;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
