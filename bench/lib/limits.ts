/**
 * The security limits the benchmarks raise above their defaults, each with the reason: every
 * other limit (per-address caps, a relay's share of a lane, body and queue bounds, the
 * GraphQL operation limits) stays at its default. `hookyardEnv` sets exactly these, and the
 * results and the printed table list them beside the figures.
 */
export const LIMITS_RAISED: Readonly<Record<string, { value: string; why: string }>> = {
  HOOKYARD_ALLOW_PRIVATE_TARGETS: { value: 'true', why: 'the sink runs on 127.0.0.1, which the SSRF guard refuses by default' },
  HOOKYARD_API_RATE_LIMIT_PER_SECOND: { value: '0', why: 'set-up creates relays back to back and `scale` times queries in a loop: the API is measured, not the per-token rate limit (default 50/s)' },
  HOOKYARD_WS_SOCKETS_PER_ADDRESS: { value: '1000', why: '`live` opens 505 sockets from one address (default 50)' },
  HOOKYARD_WS_SUBSCRIPTIONS_PER_TOKEN: { value: '2000', why: '`live` runs 505 subscriptions with one token (default 500)' },
};

export const raisedLimitsEnv = (): Record<string, string> => Object.fromEntries(Object.entries(LIMITS_RAISED).map(([name, { value }]) => [name, value]));
