import { Arg, Ctx, Int, Query, Resolver, UseMiddleware } from 'type-graphql';
import { adminOnly } from '../authorization.js';
import type { GraphQLContext } from '../context.js';
import { keysetPage, Where } from '../pagination.js';
import { date, rows } from '../rows.js';
import { AuditEntryType, AuditLogConnection, AuditLogFilter } from '../types/audit-entry.js';

interface AuditRow {
  id: string;
  occurred_at: string;
  token_id: string | null;
  token_name: string;
  operation: string;
  target_id: string | null;
  outcome: string;
  argument_names: string[];
  cursor_time: string;
}

function toAuditEntryType(row: AuditRow): AuditEntryType {
  return {
    id: row.id,
    occurredAt: date(row.occurred_at),
    tokenId: row.token_id,
    tokenName: row.token_name,
    operation: row.operation,
    targetId: row.target_id,
    outcome: row.outcome,
    argumentNames: row.argument_names,
  };
}

@Resolver(() => AuditEntryType)
export class AuditLogResolver {
  @Query(() => AuditLogConnection, { description: 'Every mutation run, refused ones included, newest first (ADMIN tokens only)' })
  @UseMiddleware(adminOnly)
  auditLog(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter?: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<AuditLogConnection> {
    const where = new Where();
    if (filter?.tokenId) where.add((p) => `a.token_id = ${p(ctx.uuid(filter.tokenId!))}`);
    if (filter?.operation) where.add((p) => `a.operation = ${p(filter.operation)}`);
    if (filter?.targetId) where.add((p) => `a.target_id = ${p(ctx.uuid(filter.targetId!))}`);
    if (filter?.outcome) where.add((p) => `a.outcome = ${p(filter.outcome)}`);
    if (filter?.occurredAfter) where.add((p) => `a.occurred_at > ${p(filter.occurredAfter)}`);
    if (filter?.occurredBefore) where.add((p) => `a.occurred_at < ${p(filter.occurredBefore)}`);
    return keysetPage(rows<AuditRow>(ctx.pool), {
      from: 'audit_log a', alias: 'a', timeColumn: 'a.occurred_at',
      select: 'a.id, a.occurred_at, a.token_id, a.token_name, a.operation, a.target_id, a.outcome, a.argument_names',
      where, first, after, map: toAuditEntryType,
    });
  }
}
