import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { keysetPage, Where } from '../pagination.js';
import { date, rows } from '../rows.js';
import { RejectedRequestConnection, RejectedRequestFilter, RejectedRequestType } from '../types/rejected-request.js';

interface RejectedRow {
  id: string;
  source_id: string | null;
  slug: string;
  reason: string;
  message: string;
  status: number;
  body_bytes: string | null;
  remote_address: string | null;
  count: number;
  received_at: string;
  cursor_time: string;
}

function toRejectedType(row: RejectedRow): RejectedRequestType {
  return {
    id: row.id,
    sourceId: row.source_id,
    slug: row.slug,
    reason: row.reason,
    message: row.message,
    status: row.status,
    bodyBytes: row.body_bytes === null ? null : Number(row.body_bytes),
    remoteAddress: row.remote_address,
    count: row.count,
    receivedAt: date(row.received_at),
  };
}

@Resolver(() => RejectedRequestType)
export class RejectedRequestResolver {
  @Query(() => RejectedRequestConnection, { description: 'Refused ingest requests, newest first: why a provider\'s webhooks fail' })
  rejectedRequests(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => RejectedRequestFilter, { nullable: true }) filter?: RejectedRequestFilter | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<RejectedRequestConnection> {
    const where = new Where();
    if (filter?.sourceId) where.add((p) => `r.source_id = ${p(ctx.uuid(filter.sourceId!))}`);
    if (filter?.reason) where.add((p) => `r.reason = ${p(filter.reason)}`);
    if (filter?.receivedAfter) where.add((p) => `r.received_at > ${p(filter.receivedAfter)}`);
    if (filter?.receivedBefore) where.add((p) => `r.received_at < ${p(filter.receivedBefore)}`);
    return keysetPage(rows<RejectedRow>(ctx.pool), {
      from: 'rejected_request r', alias: 'r', timeColumn: 'r.received_at',
      select: 'r.id, r.source_id, r.slug, r.reason, r.message, r.status, r.body_bytes, r.remote_address, r.count, r.received_at',
      where, first, after, map: toRejectedType,
    });
  }
}
