import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { readBacklog } from '../../src/delivery/backlog.js';
import { newId } from '../../src/ids.js';
import { useBossAndPool } from '../helpers/boss.js';
import { waitUntil } from '../helpers/sink.js';

const queue = useBossAndPool();

/**
 * The figures of `/metrics` are read in three statements; a commit landing between them must not
 * show in some and not others (a retry counted as scheduled while its delivery still looks
 * PENDING). A writer holds the relay table while the read reaches its last statement, then
 * commits: the read must answer as of its start.
 */
describe('readBacklog', () => {
  it('reads every figure from one snapshot', async () => {
    const pool = queue.pool();
    await pool.query(
      `insert into relay (id, name, url, signing_secret_sealed, signing_secret_hint) values ($1, 'r', 'http://127.0.0.1:9/', 'x', 'x')`,
      [newId()],
    );
    const watcher = new pg.Client({ connectionString: (pool as unknown as { options: { connectionString: string } }).options.connectionString });
    await watcher.connect();
    const writer = await pool.connect();
    try {
      await writer.query('begin');
      await writer.query('lock table relay in access exclusive mode');
      await writer.query('update relay set enabled = false');
      const reading = readBacklog(pool, queue.boss());
      // The read's last statement (the relay count) waits for the writer's lock.
      await waitUntil(async () => {
        const { rows } = await watcher.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%from relay%' and pid <> pg_backend_pid()`,
        );
        return rows[0]!.n === 1 || undefined;
      }, 10_000, 'the backlog read to wait on the relay table');
      await writer.query('commit');
      expect((await reading).relaysDisabled).toBe(0);
      expect((await readBacklog(pool, queue.boss())).relaysDisabled).toBe(1);
    } finally {
      writer.release();
      await watcher.end();
    }
  });
});
