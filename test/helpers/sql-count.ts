import { vi } from 'vitest';
import type { App } from '../../src/app.js';

/**
 * Counts what the API sends to PostgreSQL: a spy on the app's API pool (`query`, and `connect`,
 * which the ORM and transactions use), so every call still goes through. The one place that
 * knows which pool the API uses.
 */
export function countStatements(app: App): { readonly count: number; reset(): void; restore(): void } {
  const query = vi.spyOn(app.apiPool, 'query');
  const connect = vi.spyOn(app.apiPool, 'connect');
  return {
    get count() {
      return query.mock.calls.length + connect.mock.calls.length;
    },
    reset() {
      query.mockClear();
      connect.mockClear();
    },
    restore() {
      query.mockRestore();
      connect.mockRestore();
    },
  };
}
