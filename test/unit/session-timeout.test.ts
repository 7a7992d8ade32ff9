import type { ClientBase } from 'pg';
import { describe, expect, it } from 'vitest';
import { boundSession } from '../../src/db/session-timeout.js';

/** A connection that records what it is sent (the SET is all boundSession ever sends). */
function recorder(): { client: ClientBase; sent: string[] } {
  const sent: string[] = [];
  return { client: { query: async (text: string) => void sent.push(text) } as unknown as ClientBase, sent };
}

describe('boundSession', () => {
  it('rounds the budget down to a 250 ms step and sends a SET only when the step changes', async () => {
    const { client, sent } = recorder();
    // No wait and a millisecond of wait: one step, one SET.
    for (const budget of [4500, 4499, 4300, 4251]) await boundSession(client, budget);
    expect(sent).toEqual(['set statement_timeout = 4250']);
    await boundSession(client, 4250);
    await boundSession(client, 120.7);
    expect(sent.slice(1)).toEqual(['set statement_timeout = 4000', 'set statement_timeout = 120']);
  });

  it('never bounds a statement past its budget, and keeps each connection apart', async () => {
    const a = recorder();
    const b = recorder();
    for (const budget of [1, 250, 251, 999, 1000, 1001]) {
      await boundSession(a.client, budget);
      const bound = Number(a.sent.at(-1)!.split('= ')[1]);
      expect(bound).toBeGreaterThan(0);
      expect(bound).toBeLessThanOrEqual(budget);
    }
    await boundSession(b.client, 1001);
    expect(b.sent).toEqual(['set statement_timeout = 1000']);
  });
});
