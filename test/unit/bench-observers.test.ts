import { describe, expect, it } from 'vitest';
import { hookyardEnv } from '../../bench/lib/configure.js';
import { LIMITS_RAISED } from '../../bench/lib/limits.js';
import { cpuTicks, sessionLabel } from '../../bench/lib/wait-sample.js';
import { loadConfig, settings } from '../../src/config.js';

/** The bench's own rules: which limits it raises (and reports), and how it labels a session and reads CPU time. */
describe('bench limits raised', () => {
  const byEnv = new Map(Object.values(settings).map((setting) => [setting.env, setting]));

  it.each(Object.entries(LIMITS_RAISED))('%s is a setting the bench sets above its default, with a reason', (name, { value, why }) => {
    const setting = byEnv.get(name);
    expect(setting, name).toBeDefined();
    expect(hookyardEnv('postgres://x/y')[name]).toBe(value);
    const key = Object.entries(settings).find(([, s]) => s.env === name)![0] as keyof typeof settings;
    expect(loadConfig({ [name]: value })[key]).not.toEqual(loadConfig({})[key]);
    expect(why.length).toBeGreaterThan(10);
  });

  it('sets no other setting away from its default except the ones a run needs (role, database, token, key, data dir)', () => {
    const needed = new Set(['DATABASE_URL', 'HOOKYARD_ROLE', 'HOOKYARD_ADMIN_TOKEN', 'HOOKYARD_ENCRYPTION_KEY', 'HOOKYARD_DATA_DIR']);
    const unreported = Object.keys(hookyardEnv('postgres://x/y')).filter((name) => !needed.has(name) && !(name in LIMITS_RAISED));
    expect(unreported).toEqual([]);
  });
});

describe('wait sample', () => {
  it.each([
    [{ state: 'active', wait_event_type: 'IO', wait_event: 'WalSync' }, 'IO:WalSync'],
    [{ state: 'active', wait_event_type: 'Lock', wait_event: 'transactionid' }, 'Lock:transactionid'],
    [{ state: 'active', wait_event_type: null, wait_event: null }, 'CPU'],
    [{ state: 'idle', wait_event_type: 'Client', wait_event: 'ClientRead' }, 'idle'],
    [{ state: 'idle in transaction', wait_event_type: 'Client', wait_event: 'ClientRead' }, 'idle in transaction'],
    [{ state: null, wait_event_type: 'Activity', wait_event: 'WalWriterMain' }, 'unknown'],
  ])('labels %o as %s', (row, label) => {
    expect(sessionLabel(row)).toBe(label);
  });

  it('reads a live process CPU time from /proc, and nothing for a pid that does not exist', () => {
    let spin = 0;
    for (let i = 0; i < 5e7; i++) spin += i;
    expect(spin).toBeGreaterThan(0);
    expect(cpuTicks(process.pid)).toBeGreaterThan(0);
    expect(cpuTicks(2 ** 31 - 1)).toBeUndefined();
  });
});
