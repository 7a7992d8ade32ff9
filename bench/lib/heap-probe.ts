import { createWriteStream } from 'node:fs';
import WebSocket from 'ws';

/**
 * Heap used after a full GC, read from outside a running process through its inspector
 * (the process was started with `--inspect=127.0.0.1:<port>`), so the product carries no
 * bench-only code. `HeapProfiler.collectGarbage` runs V8's full, compacting collection;
 * `Runtime.getHeapUsage` then reports what survived. No debugger domain is enabled, so the
 * process runs at full speed between the two readings.
 */
export interface HeapProbe {
  /** Heap used (MiB) right after a full GC. */
  usedAfterGcMiB(): Promise<number>;
  /** A heap snapshot (`.heapsnapshot`, taken after a full GC) written to `file`; diagnosis only (bench/tools/heap-diff.ts). */
  snapshot(file: string): Promise<void>;
  /**
   * The process's memory now, in MiB, without a GC (diagnosis only): `process.memoryUsage()` and
   * the size of each V8 heap space, read with `Runtime.evaluate`.
   */
  memory(): Promise<Record<string, number>>;
  close(): void;
}

const MEMORY_NOW = `(() => {
  const mib = (bytes) => Math.round(bytes / 2 ** 18) / 4;
  const out = {};
  for (const [key, value] of Object.entries(process.memoryUsage())) out[key] = mib(value);
  for (const space of process.getBuiltinModule('v8').getHeapSpaceStatistics()) out[space.space_name] = mib(space.space_size);
  return JSON.stringify(out);
})()`;

/** `--inspect` for a child's NODE_OPTIONS, kept beside whatever options the bench already runs with. */
export function inspectOption(port: number): string {
  return [process.env.NODE_OPTIONS, `--inspect=127.0.0.1:${port}`].filter(Boolean).join(' ');
}

export async function connectHeapProbe(port: number): Promise<HeapProbe> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const pending = new Map<number, (result: Record<string, unknown>) => void>();
  let onChunk: ((chunk: string) => void) | undefined;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; method?: string; params?: { chunk?: string }; result?: Record<string, unknown> };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') onChunk?.(message.params!.chunk!);
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
    pending.delete(message.id!);
  });
  let nextId = 1;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    async usedAfterGcMiB() {
      await call('HeapProfiler.collectGarbage');
      const { usedSize } = (await call('Runtime.getHeapUsage')) as { usedSize: number };
      return Math.round((usedSize / 2 ** 20) * 10) / 10;
    },
    async snapshot(file) {
      const out = createWriteStream(file);
      onChunk = (chunk) => out.write(chunk);
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
      onChunk = undefined;
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    },
    async memory() {
      const { result } = (await call('Runtime.evaluate', { expression: MEMORY_NOW, returnByValue: true })) as { result: { value: string } };
      return JSON.parse(result.value) as Record<string, number>;
    },
    close: () => socket.close(),
  };
}
