import { describe, expect, it } from 'vitest';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../src/db/entities/delivery.js';
import {
  CANCELLABLE, CLAIMABLE, FINISHED, HOLDABLE, mayMove, movableBy, newDeliveryStatus, QUEUEABLE, RETRYABLE, sqlList, TRANSITIONS, WAITING_STATUS_SQL, waitingStatus, type Mover,
} from '../../src/delivery/status-machine.js';

describe('delivery status machine', () => {
  it.each<[DeliveryStatus, DeliveryStatus, Mover, boolean]>([
    ['PENDING', 'DELIVERING', 'claim', true],
    ['RETRYING', 'DELIVERING', 'claim', true],
    ['DELIVERING', 'DELIVERING', 'claim', true],
    ['PENDING', 'HELD', 'claim', true],
    ['HELD', 'DELIVERING', 'claim', false],
    ['DEAD', 'DELIVERING', 'claim', false],
    ['DELIVERING', 'SUCCEEDED', 'outcome', true],
    ['DELIVERING', 'RETRYING', 'outcome', true],
    ['DELIVERING', 'DEAD', 'outcome', true],
    ['DELIVERING', 'HELD', 'outcome', true],
    ['PENDING', 'SUCCEEDED', 'outcome', false],
    ['DELIVERING', 'PENDING', 'release', true],
    ['DELIVERING', 'RETRYING', 'release', true],
    ['DELIVERING', 'DEAD', 'release', false],
    ['DEAD', 'PENDING', 'operator-retry', true],
    ['RETRYING', 'PENDING', 'operator-retry', true],
    ['SUCCEEDED', 'PENDING', 'operator-retry', false],
    ['CANCELLED', 'PENDING', 'operator-retry', false],
    ['HELD', 'PENDING', 'operator-retry', false],
    ['PENDING', 'CANCELLED', 'operator-cancel', true],
    ['RETRYING', 'CANCELLED', 'operator-cancel', true],
    ['HELD', 'CANCELLED', 'operator-cancel', true],
    ['DELIVERING', 'CANCELLED', 'operator-cancel', false],
    ['DEAD', 'CANCELLED', 'operator-cancel', true],
    ['PENDING', 'HELD', 'relay-disable', true],
    ['RETRYING', 'HELD', 'relay-disable', true],
    ['DELIVERING', 'HELD', 'relay-disable', false],
    ['HELD', 'PENDING', 'relay-enable', true],
    ['HELD', 'RETRYING', 'relay-enable', true],
    ['DEAD', 'PENDING', 'relay-enable', false],
  ])('%s → %s by %s: %s', (from, to, by, allowed) => {
    expect(mayMove(from, to, by)).toBe(allowed);
  });

  it('names the sets the lifecycle SQL uses', () => {
    expect([...CLAIMABLE].sort()).toEqual(['DELIVERING', 'PENDING', 'RETRYING']);
    expect([...QUEUEABLE].sort()).toEqual(['PENDING', 'RETRYING']);
    expect([...RETRYABLE].sort()).toEqual(['DEAD', 'RETRYING']);
    expect([...CANCELLABLE].sort()).toEqual(['DEAD', 'HELD', 'PENDING', 'RETRYING']);
    expect([...HOLDABLE].sort()).toEqual(['PENDING', 'RETRYING']);
    expect([...movableBy('relay-enable')]).toEqual(['HELD']);
    expect([...FINISHED].sort()).toEqual(['CANCELLED', 'DEAD', 'SUCCEEDED']);
  });

  it('leaves no status unreachable and none unknown', () => {
    const reached = new Set<DeliveryStatus>(['PENDING', 'HELD', ...TRANSITIONS.map((t) => t.to)]);
    expect([...reached].sort()).toEqual([...DELIVERY_STATUSES].sort());
    for (const t of TRANSITIONS) expect(DELIVERY_STATUSES).toContain(t.from);
  });

  it.each<[number, DeliveryStatus]>([[0, 'PENDING'], [1, 'RETRYING'], [7, 'RETRYING']])('waits %i attempts as %s', (attempts, status) => {
    expect(waitingStatus(attempts)).toBe(status);
  });

  it('spells its rules in SQL', () => {
    expect(WAITING_STATUS_SQL).toBe("case when attempt_count = 0 then 'PENDING' else 'RETRYING' end");
    expect(sqlList(RETRYABLE)).toBe("('DEAD', 'RETRYING')");
    expect(newDeliveryStatus(true)).toBe('PENDING');
    expect(newDeliveryStatus(false)).toBe('HELD');
  });
});
