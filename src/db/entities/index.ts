import { ApiToken } from './api-token.js';
import { Attempt } from './attempt.js';
import { AuditEntry } from './audit-entry.js';
import { Delivery } from './delivery.js';
import { Event } from './event.js';
import { EventSubscription } from './event-subscription.js';
import { RejectedRequest } from './rejected-request.js';
import { Relay } from './relay.js';
import { Source } from './source.js';

export { ApiToken, Attempt, AuditEntry, Delivery, Event, EventSubscription, RejectedRequest, Relay, Source };

export const entities = [Source, Relay, EventSubscription, Event, Delivery, Attempt, RejectedRequest, ApiToken, AuditEntry];
