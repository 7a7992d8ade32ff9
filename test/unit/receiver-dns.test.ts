import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostsFile, parseHosts } from '../../src/delivery/hosts-file.js';
import { ReceiverDns } from '../../src/delivery/receiver-dns.js';

describe('the hosts file', () => {
  it('maps every name and alias of a line to its address, case-insensitively, skipping comments and junk', () => {
    const names = parseHosts('# comment\n127.0.0.1 localhost Local.Test # trailing\n::1 localhost ip6-localhost\nnot-an-ip name\n10.1.2.3\tintranet.\n');
    expect(names.get('localhost')).toEqual([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
    expect(names.get('local.test')).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(names.get('intranet')).toEqual([{ address: '10.1.2.3', family: 4 }]);
    expect(names.has('name')).toBe(false);
  });
});

describe('ReceiverDns', () => {
  it('answers hosts-file names as the OS would, and gives up on a silent DNS server as a DNS error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hookyard-hosts-'));
    const silent = createSocket('udp4');
    await new Promise<void>((done) => silent.bind(0, '127.0.0.1', done));
    try {
      await writeFile(path.join(dir, 'hosts'), '192.0.2.7 static.test\n');
      const dns = new ReceiverDns({ timeoutMs: 200, servers: [`127.0.0.1:${(silent.address() as AddressInfo).port}`], hostsFile: new HostsFile(path.join(dir, 'hosts')) });
      expect(await dns.resolve('STATIC.test.')).toEqual([{ address: '192.0.2.7', family: 4 }]);
      await expect(dns.resolve('nowhere.test')).rejects.toMatchObject({ code: 'EAI_AGAIN' });
    } finally {
      silent.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
