import { Agent, request } from 'undici';
import type { RelayJob } from './relay-job.js';

/**
 * The peer relays' whole delivery: POST the body on a keep-alive connection, 2xx or throw
 * (the queue's own retry takes a throw from there). No signing, no attempt log, no status:
 * the least a relay can do, which is what makes it the bar to measure Hookyard against.
 */
export function webhookSender(connections: number): (job: RelayJob) => Promise<void> {
  const agent = new Agent({ connections, keepAliveTimeout: 60_000 });
  return async ({ url, body }) => {
    const response = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`${url} answered ${response.statusCode}`);
  };
}

/** Tells the parent (bench/lib/processes.ts forkServer) that the peer runs; a relay listens on no port. */
export function announceReady(port = 0): void {
  process.send?.({ port });
}
