import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { isSecretHeader } from '../../crypto/redact.js';
import { parseFilter } from '../../routing/filter.js';
import { headerName, invalid } from './validate.js';

@InputType({ description: 'Which events go to which relay' })
export class CreateSubscriptionInput {
  @Field(() => ID)
  relayId!: string;

  @Field(() => [ID], { nullable: true, description: 'Null or empty: every source, published events included' })
  sourceIds?: string[] | null;

  @Field(() => [String], { description: '`*`, exact types, or `a.*` (one or more segments after a.); `.` and `/` both separate' })
  eventTypes!: string[];

  @Field(() => GraphQLJSON, { nullable: true, description: 'A payload filter (Hookdeck / Convoy syntax)' })
  filter?: unknown;

  @Field(() => [String], { nullable: true, description: 'Provider headers to pass on, besides Content-Type' })
  forwardHeaders?: string[] | null;
}

@InputType({ description: 'Changes to a subscription; omitted fields stay as they are' })
export class UpdateSubscriptionInput {
  @Field(() => ID, { nullable: true })
  relayId?: string | null;

  @Field(() => [ID], { nullable: true })
  sourceIds?: string[] | null;

  @Field(() => [String], { nullable: true })
  eventTypes?: string[] | null;

  @Field(() => GraphQLJSON, { nullable: true })
  filter?: unknown;

  @Field(() => [String], { nullable: true })
  forwardHeaders?: string[] | null;

  @Field(() => Boolean, { nullable: true })
  enabled?: boolean | null;
}

const SEGMENT = '[A-Za-z0-9_:@-]+';
const PATTERN = new RegExp(`^(\\*|${SEGMENT}([./]${SEGMENT})*([./]\\*)?)$`);

export function checkEventTypes(patterns: string[]): string[] {
  if (patterns.length === 0) invalid('eventTypes', 'must list at least one pattern (use "*" for everything)');
  if (patterns.length > 100) invalid('eventTypes', 'at most 100 patterns');
  for (const pattern of patterns) {
    if (pattern.length > 200 || !PATTERN.test(pattern)) invalid('eventTypes', `"${pattern}" is not a pattern: use "*", "a.b" or "a.*"`);
  }
  return patterns;
}

/**
 * Forwarded headers come from what the event stored; signatures and credentials never are,
 * so naming one is refused rather than silently sending nothing (receivers verify Hookyard's
 * own `webhook-signature`).
 */
export function checkForwardHeaders(names: string[]): string[] {
  if (names.length > 50) invalid('forwardHeaders', 'at most 50 headers');
  return names.map((name) => {
    const lower = headerName('forwardHeaders', name).toLowerCase();
    if (isSecretHeader(lower)) {
      invalid('forwardHeaders', `${name} carries a signature or credentials, which are never stored and so never forwarded; receivers verify Hookyard's webhook-signature instead`);
    }
    return lower;
  });
}

/** A payload filter in the Hookdeck / Convoy JSON syntax; refused naming the bad path or operator. */
export function checkFilter(filter: unknown): unknown {
  if (filter === undefined || filter === null) return null;
  const parsed = parseFilter(filter);
  if (!parsed.ok) invalid('filter', `${parsed.path}: ${parsed.message}`);
  return filter;
}
