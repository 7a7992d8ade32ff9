import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors.js';
import type { GraphQLContext } from './context.js';
import { publishMayResolve, publishScopeRefusal } from './publish-scope.js';

/**
 * Per field, over HTTP and websockets alike, so a new root field cannot forget it: a READ
 * token never mutates; a PUBLISH token resolves no root field but `publishEvent` and `viewer`.
 * For PUBLISH this is the second line: `operationScopeRefusal` refuses the whole operation
 * before anything runs (a subscription's fields resolve only once per event, too late).
 */
export const scopeAllowsField: MiddlewareFn<GraphQLContext> = async ({ info, context }, next) => {
  const { scope } = context.principal;
  if (scope === 'READ' && info.parentType.name === 'Mutation') {
    throw new AppError('FORBIDDEN', `${info.fieldName} needs an ADMIN token; this token is READ`);
  }
  if (scope === 'PUBLISH' && !publishMayResolve(info.parentType.name, info.fieldName)) {
    throw new AppError('FORBIDDEN', `${info.fieldName} is not allowed: a PUBLISH token may only call publishEvent (and read viewer)`);
  }
  return next();
};

/** For fields only ADMIN tokens may read (`auditLog`): READ and PUBLISH tokens get FORBIDDEN. */
export const adminOnly: MiddlewareFn<GraphQLContext> = async ({ info, context }, next) => {
  if (context.principal.scope !== 'ADMIN') {
    throw new AppError('FORBIDDEN', `${info.fieldName} needs an ADMIN token; this token is ${context.principal.scope}`);
  }
  return next();
};

/** The refusal of a whole operation by the token's scope, before anything executes; only PUBLISH has one. */
export function operationScopeRefusal(principal: Principal, document: DocumentNode): AppError | undefined {
  return principal.scope === 'PUBLISH' ? publishScopeRefusal(document) : undefined;
}

/**
 * The same, from the query text, for HTTP before Apollo: a PUBLISH token's subscription gets
 * FORBIDDEN rather than SUBSCRIPTION_OVER_HTTP. Text that does not parse is left to Apollo,
 * which reports the syntax error.
 */
export function queryScopeRefusal(principal: Principal, query: string): AppError | undefined {
  if (principal.scope !== 'PUBLISH') return undefined;
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return undefined;
  }
  return publishScopeRefusal(document);
}

/** As a GraphQL error, what websockets send; `http` adds the status Apollo answers with when a plugin throws it. */
export function scopeError(refusal: AppError, http = false): GraphQLError {
  const extensions = http ? { code: refusal.graphqlCode, http: { status: refusal.status } } : { code: refusal.graphqlCode };
  return new GraphQLError(refusal.message, { extensions, originalError: refusal });
}

/**
 * Apollo's check of the operation it is about to run, whatever brought the document: a
 * persisted query's hash carries no text for `queryScopeRefusal` to read.
 */
export const operationScopePlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ contextValue, document }) {
        const refusal = operationScopeRefusal(contextValue.principal, document);
        if (refusal) throw scopeError(refusal, true);
      },
    };
  },
};

/** For graphql-ws's onSubscribe (http/ws-server.ts `authorize`): the refusal as the errors to send. */
export function websocketScopeRefusal(principal: Principal, document: DocumentNode): GraphQLError[] | undefined {
  const refusal = operationScopeRefusal(principal, document);
  return refusal ? [scopeError(refusal)] : undefined;
}
