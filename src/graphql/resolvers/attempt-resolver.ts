import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { AttemptErrorClass } from '../../db/entities/attempt.js';
import type { GraphQLContext } from '../context.js';
import { keysetPage, Where, type Page } from '../pagination.js';
import { date, rows } from '../rows.js';
import { AttemptConnection, AttemptType } from '../types/attempt.js';

interface AttemptRow {
  id: string;
  number: number;
  started_at: string;
  duration_ms: number;
  response_status: number | null;
  error_class: AttemptErrorClass | null;
  error_message: string | null;
  response_body_excerpt: string | null;
  request_headers: Record<string, string>;
  cursor_time: string;
}

function toAttemptType(row: AttemptRow): AttemptType {
  return {
    id: row.id,
    number: row.number,
    startedAt: date(row.started_at),
    durationMs: row.duration_ms,
    responseStatus: row.response_status,
    errorClass: row.error_class,
    errorMessage: row.error_message,
    responseBodyExcerpt: row.response_body_excerpt,
    requestHeaders: row.request_headers,
  };
}

/** A delivery's attempts, newest first; shared by `Query.attempts` and `Delivery.attempts`. */
export function attemptsPage(ctx: GraphQLContext, deliveryId: string, first?: number | null, after?: string | null): Promise<Page<AttemptType>> {
  const where = new Where().add((p) => `a.delivery_id = ${p(ctx.uuid(deliveryId))}`);
  return keysetPage(rows<AttemptRow>(ctx.pool), {
    from: 'attempt a',
    alias: 'a',
    timeColumn: 'a.started_at',
    select: 'a.id, a.number, a.started_at, a.duration_ms, a.response_status, a.error_class, a.error_message, a.response_body_excerpt, a.request_headers',
    where,
    first,
    after,
    map: toAttemptType,
  });
}

@Resolver(() => AttemptType)
export class AttemptResolver {
  @Query(() => AttemptConnection, { description: 'A delivery\'s attempts, newest first' })
  attempts(
    @Arg('deliveryId', () => ID) deliveryId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<AttemptConnection> {
    return attemptsPage(ctx, deliveryId, first, after);
  }
}
