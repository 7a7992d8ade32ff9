import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRelayUrl, guardedLookup, isBlockedAddress, type ResolvedAddress, type Resolver } from '../../src/delivery/ssrf-guard.js';

describe('isBlockedAddress', () => {
  it.each<[string, string | null]>([
    // IPv4 loopback, private, link-local, CGNAT
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    // cloud metadata, named as such even where another range also covers them
    ['169.254.169.254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    // multicast, unspecified, broadcast, reserved, benchmarking, documentation
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    // IPv6 ranges
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['100::1', 'discard'],
    // IPv4-mapped and IPv4-compatible IPv6 are judged as their IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['::7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['0:0:0:0:0:0:a00:1', 'private'],
    // 6to4, Teredo and NAT64 prefixes are refused whole, whatever IPv4 they embed
    ['2002:7f00:1::1', '6to4'],
    ['2002:a9fe:a9fe::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo'], // client 127.0.0.1, obfuscated
    ['64:ff9b::7f00:1', 'NAT64'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['64:ff9b:1::a00:1', 'NAT64'],
    // what cannot be read cannot be vouched for
    ['not-an-ip', 'unparseable'],
    ['', 'unparseable'],
    ['1.2.3.256', 'unparseable'],
    ['[::1]', 'unparseable'],
    // public unicast, including the first address outside each neighbouring range
    ['93.184.215.14', null],
    ['8.8.8.8', null],
    ['1.1.1.1', null],
    ['11.0.0.1', null],
    ['172.32.0.1', null],
    ['100.128.0.1', null],
    ['198.20.0.1', null],
    ['169.253.255.255', null],
    ['2606:4700::1111', null],
    ['2001:4860:4860::8888', null],
    ['::ffff:8.8.8.8', null],
  ])('%s → %s', (address, range) => {
    expect(isBlockedAddress(address)).toEqual(range === null ? { blocked: false } : { blocked: true, range });
  });
});

const ZONE: Record<string, ResolvedAddress[]> = {
  'public.test': [
    { address: '93.184.215.14', family: 4 },
    { address: '2606:4700::1111', family: 6 },
  ],
  'mixed.test': [
    { address: '93.184.215.14', family: 4 },
    { address: '10.0.0.5', family: 4 },
  ],
  'mapped.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
};

const zoneResolve: Resolver = async (hostname) => {
  const answers = ZONE[hostname];
  if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return answers;
};
const neverResolve: Resolver = () => new Promise(() => {});
const mustNotResolve: Resolver = async (hostname) => {
  throw new Error(`DNS must not be asked about ${hostname}`);
};

describe('checkRelayUrl', () => {
  it.each<[string, string | null]>([
    ['https://public.test/hooks', null],
    ['http://public.test:8080/x?y=1', null],
    ['https://mixed.test/', 'mixed.test resolves to a private address'],
    ['https://mapped.test/', 'mapped.test resolves to a cloud metadata address'],
    ['https://typo.test/', 'could not resolve host typo.test (ENOTFOUND)'],
    ['ftp://public.test/', 'only http and https are allowed, not ftp'],
    ['file:///etc/passwd', 'only http and https are allowed, not file'],
    ['not a url', 'not a valid URL'],
  ])('%s → %s', async (url, reason) => {
    const result = await checkRelayUrl(url, { allowPrivate: false, resolve: zoneResolve });
    expect(result).toEqual(reason === null ? { ok: true } : { ok: false, reason, detail: (result as { detail?: string }).detail });
    // The caller's reason never names a resolved address; the log's detail does.
    if (url.includes('mixed')) expect(result).toMatchObject({ detail: 'mixed.test resolves to 10.0.0.5, which is private' });
  });

  // new URL() normalises hex, integer and short IPv4 forms to 127.0.0.1; no DNS is asked.
  it.each<[string, string]>([
    ['http://127.0.0.1/', '127.0.0.1 is loopback'],
    ['http://0x7f000001/', '127.0.0.1 is loopback'],
    ['http://2130706433/', '127.0.0.1 is loopback'],
    ['http://127.1/', '127.0.0.1 is loopback'],
    ['http://[::1]/', '::1 is loopback'],
    ['http://[::ffff:7f00:1]:8080/', '::ffff:7f00:1 is loopback'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is cloud metadata'],
    ['http://localhost:3000/', 'localhost is loopback'],
    ['http://api.localhost/', 'api.localhost is loopback'],
    ['http://LOCALHOST./', 'localhost. is loopback'],
  ])('%s is refused without DNS', async (url, reason) => {
    expect(await checkRelayUrl(url, { allowPrivate: false, resolve: mustNotResolve })).toEqual({ ok: false, reason });
  });

  it('allows private targets when HOOKYARD_ALLOW_PRIVATE_TARGETS is set', async () => {
    for (const url of ['https://mixed.test/', 'http://127.0.0.1:9/', 'http://localhost/', 'http://[::1]/']) {
      expect(await checkRelayUrl(url, { allowPrivate: true, resolve: zoneResolve })).toEqual({ ok: true });
    }
    // the scheme check is not about private targets, so it still applies; with the guard off
    // there is nothing to resolve for, so an unresolvable name is not refused
    expect(await checkRelayUrl('ftp://public.test/', { allowPrivate: true, resolve: zoneResolve })).toMatchObject({ ok: false });
    expect(await checkRelayUrl('https://typo.test/', { allowPrivate: true, resolve: zoneResolve })).toEqual({ ok: true });
  });

  it('accepts an unresolvable name when asked to (the connect-time guard still runs)', async () => {
    expect(await checkRelayUrl('https://typo.test/', { allowPrivate: false, resolve: zoneResolve, allowUnresolvable: true })).toEqual({ ok: true });
    expect(await checkRelayUrl('https://mixed.test/', { allowPrivate: false, resolve: zoneResolve, allowUnresolvable: true })).toMatchObject({ ok: false });
  });

  it('gives up on a resolver that never answers', async () => {
    const result = await checkRelayUrl('https://slow.test/', { allowPrivate: false, resolve: neverResolve, timeoutMs: 20 });
    expect(result).toEqual({ ok: false, reason: 'could not resolve host slow.test (EAI_AGAIN)' });
  });
});

type LookupResult = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookup(fn: LookupFunction, hostname: string, options: LookupOptions): Promise<LookupResult> {
  return new Promise((resolve) => fn(hostname, options, (error, address, family) => resolve({ error, address, family })));
}

describe('guardedLookup', () => {
  const guard = guardedLookup({ allowPrivate: false, resolve: zoneResolve });

  it('answers the all form with every address and the single form with the first', async () => {
    expect(await lookup(guard, 'public.test', { all: true })).toEqual({ error: null, address: ZONE['public.test'], family: undefined });
    expect(await lookup(guard, 'public.test', {})).toEqual({ error: null, address: '93.184.215.14', family: 4 });
    expect(await lookup(guard, 'public.test', { family: 6 })).toEqual({ error: null, address: '2606:4700::1111', family: 6 });
  });

  it('refuses a host when any of its addresses is blocked, in both forms', async () => {
    for (const options of [{ all: true }, {}]) {
      const { error } = await lookup(guard, 'mixed.test', options);
      expect(error).toMatchObject({ code: 'SSRF_BLOCKED', name: 'SsrfBlockedError', message: 'mixed.test resolves to a private address', detail: 'mixed.test resolves to 10.0.0.5, which is private' });
    }
  });

  it('checks IP literals without DNS', async () => {
    const literal = guardedLookup({ allowPrivate: false, resolve: mustNotResolve });
    expect((await lookup(literal, '127.0.0.1', {})).error).toMatchObject({ code: 'SSRF_BLOCKED', message: '127.0.0.1 is loopback' });
    expect((await lookup(literal, '::ffff:a9fe:a9fe', { all: true })).error).toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(await lookup(literal, '8.8.8.8', {})).toEqual({ error: null, address: '8.8.8.8', family: 4 });
  });

  it('catches DNS rebinding: public when saved, private at the next connect', async () => {
    let calls = 0;
    const rebinding = guardedLookup({
      allowPrivate: false,
      resolve: async () => [{ address: ++calls === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }],
    });
    expect(await lookup(rebinding, 'rebind.test', { all: true })).toMatchObject({ error: null, address: [{ address: '93.184.215.14', family: 4 }] });
    expect((await lookup(rebinding, 'rebind.test', { all: true })).error).toMatchObject({ code: 'SSRF_BLOCKED' });
  });

  it('passes DNS failures through and turns a hung resolver into EAI_AGAIN', async () => {
    expect((await lookup(guard, 'typo.test', {})).error).toMatchObject({ code: 'ENOTFOUND' });
    const slow = guardedLookup({ allowPrivate: false, resolve: neverResolve, timeoutMs: 20 });
    expect((await lookup(slow, 'slow.test', { all: true })).error).toMatchObject({ code: 'EAI_AGAIN', hostname: 'slow.test' });
  });

  it('lets everything through when private targets are allowed', async () => {
    const open = guardedLookup({ allowPrivate: true, resolve: zoneResolve });
    expect(await lookup(open, 'mixed.test', { all: true })).toEqual({ error: null, address: ZONE['mixed.test'], family: undefined });
  });
});

describe('guardedLookup on a real socket', () => {
  let server: Server;
  let port: number;
  let received = 0;
  const toLoopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      received += 1;
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  it('fails the request with SSRF_BLOCKED before anything reaches the receiver', async () => {
    const agent = new Agent({ connect: { lookup: guardedLookup({ allowPrivate: false, resolve: toLoopback }) } });
    try {
      const error = await request(`http://example.test:${port}/`, { dispatcher: agent }).then(
        () => null,
        (caught: unknown) => caught as { code?: string; cause?: { code?: string } },
      );
      expect(error?.code ?? error?.cause?.code).toBe('SSRF_BLOCKED');
      expect(received).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('reaches the receiver when private targets are allowed', async () => {
    const agent = new Agent({ connect: { lookup: guardedLookup({ allowPrivate: true, resolve: toLoopback }) } });
    try {
      const response = await request(`http://example.test:${port}/`, { dispatcher: agent });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('ok');
      expect(received).toBe(1);
    } finally {
      await agent.close();
    }
  });
});
