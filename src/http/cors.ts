import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a browser console sends to /graphql besides simple headers. */
const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name';

/**
 * CORS for `/graphql`: none unless HOOKYARD_CORS_ORIGINS lists exact origins. Tokens travel in
 * the Authorization header, never in cookies, so credentials are never allowed; an origin that
 * is not listed gets no `Access-Control-Allow-Origin`, and the browser keeps the answer from it.
 */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.origins = new Set(origins);
  }

  /**
   * Adds the headers this request's origin may see; answers a preflight (OPTIONS) itself,
   * before authentication (a preflight never carries the token). Returns whether it answered.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.origins.size === 0) return false;
    response.setHeader('vary', 'Origin');
    const origin = request.headers.origin;
    const allowed = origin !== undefined && this.origins.has(origin);
    if (allowed) response.setHeader('access-control-allow-origin', origin);
    if (request.method !== 'OPTIONS') return false;
    if (allowed) {
      response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      response.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
      response.setHeader('access-control-max-age', '600');
    }
    response.writeHead(204);
    response.end();
    return true;
  }
}
