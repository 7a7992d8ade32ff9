import { sendJson } from '../wire/json-response.js';
import type { Route } from './server.js';

/**
 * `/healthz` (the process answers) and `/readyz` (everything its role serves is up). Both answer
 * from the first moment and while stopping (`always`): a readiness check must see the 503.
 */
export function healthRoutes(isReady: () => boolean): Route[] {
  return [
    { path: /^\/healthz$/, methods: ['GET', 'HEAD'], always: true, handler: async (_request, response) => sendJson(response, 200, { status: 'ok' }) },
    {
      path: /^\/readyz$/, methods: ['GET', 'HEAD'], always: true,
      handler: async (_request, response) => (isReady() ? sendJson(response, 200, { status: 'ready' }) : sendJson(response, 503, { status: 'starting' })),
    },
  ];
}
