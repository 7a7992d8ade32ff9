import type { EventSubscription } from '../../db/entities/event-subscription.js';
import type { EventSubscriptionType } from '../types/subscription.js';

export function toSubscriptionType(s: EventSubscription): EventSubscriptionType {
  return {
    id: s.id,
    relayId: s.relay.id,
    sourceIds: s.sourceIds ?? null,
    eventTypes: s.eventTypes,
    filter: s.filter ?? null,
    forwardHeaders: s.forwardHeaders ?? null,
    enabled: s.enabled,
    createdAt: s.createdAt,
  };
}
