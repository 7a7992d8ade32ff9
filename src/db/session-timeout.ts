import type { ClientBase } from 'pg';

/** Budgets are rounded down to this step, so a steady load keeps one value and sends no SET. */
const STEP_MS = 250;

const current = new WeakMap<ClientBase, number>();

/**
 * Bounds the next statements of `client` (a connection no one else uses: the value stays with
 * the session) to at most `budgetMs`, for a statement that runs outside an explicit
 * transaction and so cannot carry `set local`. Rounded down to a step and sent only when the
 * step changes: under load a batch pays the round trip of a SET only when its budget moved by a
 * step. Never longer than the budget, so a statement never outlives its caller's deadline.
 */
export async function boundSession(client: ClientBase, budgetMs: number): Promise<void> {
  // (budget − 1): a batch that waited nothing has the whole timeout as its budget, one that
  // waited a millisecond a little less; both fall in one step, where they would flip between two.
  const bound = budgetMs > STEP_MS ? Math.floor((budgetMs - 1) / STEP_MS) * STEP_MS : Math.max(1, Math.floor(budgetMs));
  if (current.get(client) === bound) return;
  current.delete(client);
  await client.query(`set statement_timeout = ${bound}`);
  current.set(client, bound);
}
