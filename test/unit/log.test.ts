import { execFile } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger, wantsPrettyLogs } from '../../src/log.js';

function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  return { lines, destination: new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) }) };
}

describe('log redaction', () => {
  it('shows [Redacted] for credentials, signatures, SQL parameters, secrets, tokens, passwords and relay header values', () => {
    const { lines, destination } = capture();
    const log = createLogger('info', destination);
    const secrets = ['Bearer hky_tok', 'Basic dXNlcjpwYXNz', 'session=s1', 'sha256=abc1', 'v1,sig2', 'param-3', 'var-4', 'whsec_5', 'pw-6', 'hky_7', 'api-key-8', 'proxy-9', 'admin-10', 'keys-11'];
    log.info({
      headers: { authorization: secrets[0], cookie: secrets[2], 'x-hub-signature-256': secrets[3], 'content-type': 'application/json' },
      req: { headers: { authorization: secrets[1], 'proxy-authorization': secrets[7], 'webhook-signature': secrets[4] } },
      err: { message: 'duplicate key', params: [secrets[5]], parameters: [secrets[5]] },
      variables: { input: { secret: secrets[6] } },
      input: { signingSecret: secrets[7], basicAuthPassword: secrets[8], password: secrets[8], token: secrets[9] },
      relay: { headers: [{ name: 'X-Api-Key', value: secrets[10] }] },
      config: { adminToken: secrets[12], secrets: [secrets[13]] },
      values: [secrets[5]],
    }, 'something happened');
    const line = lines.join('');
    for (const value of secrets) expect(line, value).not.toContain(value);
    const logged = JSON.parse(line) as Record<string, any>;
    expect(logged.headers).toEqual({ authorization: '[Redacted]', cookie: '[Redacted]', 'x-hub-signature-256': '[Redacted]', 'content-type': 'application/json' });
    expect(logged.req.headers.authorization).toBe('[Redacted]');
    expect(logged.err).toMatchObject({ message: 'duplicate key', params: '[Redacted]', parameters: '[Redacted]' });
    expect(logged.relay.headers).toEqual([{ name: 'X-Api-Key', value: '[Redacted]' }]);
    expect(logged.variables).toBe('[Redacted]');
    expect(logged.msg).toBe('something happened');
  });
});

describe('log output', () => {
  it('is pretty only for a terminal', () => {
    expect(wantsPrettyLogs({ isTTY: true })).toBe(true);
    expect(wantsPrettyLogs({ isTTY: false })).toBe(false);
    expect(wantsPrettyLogs({})).toBe(false);
  });

  it('is JSON lines, at the level asked, when stdout is a pipe (the compiled process logger, as main.ts makes it)', async () => {
    const log = path.resolve(import.meta.dirname, '../../dist/src/log.js');
    const script = `const { createProcessLogger } = await import(process.argv[1]);
      const log = await createProcessLogger('warn');
      log.info('hidden'); log.warn({ correlationId: 'c1' }, 'shown'); log.error({ headers: { authorization: 'Bearer x' } }, 'also shown');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, log], { timeout: 30_000 });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.msg)).toEqual(['shown', 'also shown']);
    expect(lines[0]).toMatchObject({ level: 40, app: 'hookyard', correlationId: 'c1' });
    expect(lines[1]).toMatchObject({ headers: { authorization: '[Redacted]' } });
    expect(stdout).not.toContain('\u001b[');
  });
});
