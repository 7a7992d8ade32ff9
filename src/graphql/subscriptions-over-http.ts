import { GraphQLError, type ValidationRule } from 'graphql';
import { AppError } from '../errors.js';

const MESSAGE = 'subscriptions need a websocket (graphql-ws) on /graphql; HTTP POST and GET carry queries and mutations';

/**
 * For HTTP only: a document holding a subscription is refused with a clear 400
 * (SUBSCRIPTION_OVER_HTTP) while it is validated, before anything runs. Executed over HTTP it
 * failed inside the resolver as an INTERNAL_SERVER_ERROR, and by GET Apollo answers 405 "use
 * POST", which would not work either. A validation rule, because Apollo's GET check comes
 * before any plugin hook that sees the operation. Live feeds are graphql-ws's (http/ws-server.ts).
 */
export const NoSubscriptionsOverHttp: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== 'subscription') return;
    // formatError answers with the AppError's code (ValidationError keeps it as originalError).
    context.reportError(new GraphQLError(MESSAGE, { nodes: [node], originalError: new AppError('SUBSCRIPTION_OVER_HTTP', MESSAGE) }));
  },
});
