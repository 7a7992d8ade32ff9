import {
  getNamedType, isInputObjectType, isNonNullType, isScalarType,
  type GraphQLArgument, type GraphQLField, type GraphQLResolveInfo,
} from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { recordAudit, type AuditRecord } from '../audit/audit-log.js';
import type { Logger } from '../log.js';
import { toUuid, type GraphQLContext } from './context.js';
import { errorCode } from './errors.js';

const NIL = toUuid('');

/** A well-formed id as stored; anything else (a probe, a NUL) names no target. */
function uuidOrNull(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = toUuid(value);
  return id === NIL ? null : id;
}

function isIdArgument(arg: GraphQLArgument): boolean {
  const type = isNonNullType(arg.type) ? arg.type.ofType : arg.type;
  return isScalarType(type) && type.name === 'ID';
}

/**
 * What the mutation acted on: its ID argument (`id`, or `relayId` of sendTestEvent), else the
 * id of what it returned (`createSource` → the source, `createRelay { relay }` → the relay).
 */
function targetOf(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, result: unknown): string | null {
  const idArgument = field.args.find(isIdArgument);
  if (idArgument) return uuidOrNull(args[idArgument.name]);
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return null;
  const object = result as Record<string, unknown>;
  if ('id' in object) return uuidOrNull(object.id);
  for (const value of Object.values(object)) {
    if (value !== null && typeof value === 'object' && 'id' in value) return uuidOrNull((value as { id: unknown }).id);
  }
  return null;
}

/**
 * Names of the arguments given, and one level into input objects (`input.url`): names come
 * from the schema, never from a value, so `publishEvent(payload:)` contributes `payload` and
 * none of the JSON's keys.
 */
function argumentNames(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const arg of field.args) {
    if (!(arg.name in args)) continue;
    const value = args[arg.name];
    const type = getNamedType(arg.type);
    if (isInputObjectType(type) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const fields = type.getFields();
      for (const key of Object.keys(value)) if (key in fields) names.push(`${arg.name}.${key}`);
    } else {
      names.push(arg.name);
    }
  }
  return names.sort();
}

function isRootMutation(info: GraphQLResolveInfo): boolean {
  return info.parentType === info.schema.getMutationType();
}

/**
 * Records every root mutation field, over HTTP and websockets alike: listed first among the
 * global middlewares so it wraps the READ-token check, and a refused attempt is recorded with
 * its code like any other failure. The row is written before the answer leaves, so a client
 * that reads the log next sees its own change.
 */
export function auditMutations(log?: Logger): MiddlewareFn<GraphQLContext> {
  return async ({ info, args, context }, next) => {
    if (!isRootMutation(info)) return next();
    const field = info.parentType.getFields()[info.fieldName]!;
    const record = (outcome: string, result: unknown): AuditRecord => ({
      tokenId: context.principal.tokenId,
      tokenName: context.principal.tokenName,
      operation: info.fieldName,
      targetId: targetOf(field, args, result),
      outcome,
      argumentNames: argumentNames(field, args),
    });
    const write = async (entry: AuditRecord) => {
      try {
        await recordAudit(context.pool, entry);
      } catch (error) {
        // The mutation's own outcome stands (it may have committed): the trail goes to the log.
        if (!log) throw error;
        log.error({ err: error, audit: entry }, 'audit log write failed');
      }
    };
    let result: unknown;
    try {
      result = await next();
    } catch (error) {
      await write(record(errorCode(error), undefined));
      throw error;
    }
    await write(record('OK', result));
    return result;
  };
}
