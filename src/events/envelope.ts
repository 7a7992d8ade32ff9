/**
 * The body of an event Hookyard writes itself (published, alerts, tests): the Standard
 * Webhooks envelope `{"type","timestamp","data"}`, fixed when the event is stored so every
 * retry and replay sends the same bytes.
 */
export function eventEnvelope(type: string, data: unknown, now: Date = new Date()): Buffer {
  return Buffer.from(JSON.stringify({ type, timestamp: now.toISOString(), data }));
}
