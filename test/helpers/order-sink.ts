import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request at the receiver: which event (its key and place), when it came and when it ended, and the answer. */
export interface Receipt {
  path: string;
  key: string | undefined;
  seq: number | undefined;
  start: number;
  end: number | undefined;
  /** 0 while unanswered (a hang), then the status answered. */
  status: number;
}

export type OrderAnswer = { status: number } | 'hang';

/**
 * A receiver for ordered delivery: records when each request started and ended (answered, or
 * cut by the sender's timeout or death), with the key and place a published event's payload
 * carries (`{"data":{"customer","seq"}}`), so requests of one key that overlap show.
 */
export class OrderSink {
  readonly receipts: Receipt[] = [];
  url = '';
  answer: (receipt: Receipt) => OrderAnswer = () => ({ status: 200 });
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let payload: { customer?: string; seq?: number } = {};
        try {
          payload = (JSON.parse(Buffer.concat(chunks).toString()) as { data?: typeof payload }).data ?? {};
        } catch {
          // Not a published event: recorded without a key.
        }
        const receipt: Receipt = { path: request.url ?? '', key: payload.customer, seq: payload.seq, start: Date.now(), end: undefined, status: 0 };
        this.receipts.push(receipt);
        const answer = this.answer(receipt);
        response.on('close', () => (receipt.end ??= Date.now()));
        if (answer === 'hang') return;
        receipt.status = answer.status;
        response.writeHead(answer.status).end();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  at(path: string): Receipt[] {
    return this.receipts.filter((r) => r.path === path);
  }
}

/** A small deterministic random source, so a failing run can be repeated. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface OrderFindings {
  /** Keys whose successful receipts (repeats of the one just before folded: at least once) were not 0..perKey-1 in order. */
  outOfOrder: string[];
  /** Requests of one key that started before the previous one of the key ended. */
  overlaps: string[];
  /** Successful receipts that repeated the one before them (a head sent again after a crash). */
  repeats: number;
}

/** Per key: were the successful receipts in acceptance order, and were two requests of the key ever in flight together? */
export function orderFindings(receipts: readonly Receipt[], keys: readonly string[], perKey: number): OrderFindings {
  const findings: OrderFindings = { outOfOrder: [], overlaps: [], repeats: 0 };
  for (const key of keys) {
    const ofKey = receipts.filter((r) => r.key === key).sort((a, b) => a.start - b.start);
    const succeeded: number[] = [];
    for (const r of ofKey.filter((o) => o.status >= 200 && o.status < 300)) {
      if (succeeded.at(-1) === r.seq) findings.repeats++;
      else succeeded.push(r.seq!);
    }
    if (succeeded.length !== perKey || succeeded.some((seq, i) => seq !== i)) findings.outOfOrder.push(`${key}: ${succeeded.join(',')}`);
    for (let i = 1; i < ofKey.length; i++) {
      const before = ofKey[i - 1]!;
      if (before.end === undefined || ofKey[i]!.start < before.end) findings.overlaps.push(`${key}: seq ${ofKey[i]!.seq} started before seq ${before.seq} ended`);
    }
  }
  return findings;
}
