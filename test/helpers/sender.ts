import { afterAll, beforeAll } from 'vitest';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { startSink, type Sink } from './sink.js';

/**
 * A sink and an HttpSender that may reach it (127.0.0.1), started before the calling file's
 * tests and closed after them: for tests of the sender alone. The fields are set in beforeAll.
 */
export function useSenderAndSink(): { sink: Sink; sender: HttpSender } {
  const ctx = {} as { sink: Sink; sender: HttpSender };
  beforeAll(async () => {
    ctx.sink = await startSink();
    ctx.sender = new HttpSender({ allowPrivate: true });
  });
  afterAll(async () => {
    await ctx.sender.close();
    await ctx.sink.close();
  });
  return ctx;
}
