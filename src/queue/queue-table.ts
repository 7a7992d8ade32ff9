import type { PgBoss } from 'pg-boss';

/** Where pg-boss keeps a queue's jobs: its table (unqualified, in pg-boss's schema) and its policy. */
export interface QueueTable {
  table: string;
  policy: string;
}

const tables = new WeakMap<PgBoss, Map<string, Promise<QueueTable>>>();

/**
 * A queue's table and policy, read once per pg-boss instance (each is bound to one database;
 * a queue's table is fixed when the queue is created). The statements that write pg-boss's
 * SQL into our own (fetch-jobs.ts, insert-jobs.ts) name the table in their text, so its name
 * is checked to be a plain identifier. A failed read is forgotten, so the next call tries again.
 */
export function queueTable(boss: PgBoss, queue: string): Promise<QueueTable> {
  let byQueue = tables.get(boss);
  if (!byQueue) tables.set(boss, (byQueue = new Map()));
  let table = byQueue.get(queue);
  if (!table) {
    table = boss.getQueue(queue).then((q) => {
      if (!q) throw new Error(`pg-boss queue ${queue} does not exist`);
      if (!/^[a-z_][a-z0-9_]*$/.test(q.table)) throw new Error(`unexpected pg-boss table name ${q.table}`);
      return { table: q.table, policy: q.policy ?? 'standard' };
    });
    table.catch(() => byQueue.delete(queue));
    byQueue.set(queue, table);
  }
  return table;
}
