import { AppError } from '../errors.js';
import type { ChangeLogFeed } from '../live/change-log-feed.js';

/**
 * A live item's cursor: opaque base64url of `<log>:<number>`, the item's place in its change
 * log (`delivery_change`, `event_arrival`). Passed back as `after`, it resumes right after it.
 */
export function encodeFeedCursor(log: string, seq: number): string {
  return Buffer.from(`${log}:${seq}`, 'utf8').toString('base64url');
}

const SEQ = /^[0-9]{1,15}$/;

/**
 * The number `after` stands for in `feed`'s log; BAD_USER_INPUT naming `after` when it is not
 * a cursor of this feed, or when retention has deleted the changes that followed it.
 */
export async function resumePoint<T>(feed: ChangeLogFeed<T>, after: string): Promise<number> {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(after) ? Buffer.from(after, 'base64url').toString('utf8') : '';
  const [log, seq] = text.split(':');
  if (log !== feed.changeLog.name || seq === undefined || !SEQ.test(seq)) {
    throw new AppError('BAD_USER_INPUT', 'after is not a cursor of this feed', { field: 'after' });
  }
  const state = await feed.cursorState(Number(seq));
  if (state === 'unknown') throw new AppError('BAD_USER_INPUT', 'after is not a cursor of this feed', { field: 'after' });
  if (state === 'expired') {
    throw new AppError('BAD_USER_INPUT', 'after has expired: retention has deleted the changes that followed it; subscribe without after and reload the current state', { field: 'after' });
  }
  return Number(seq);
}
