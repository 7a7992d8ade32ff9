import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { addressKey, canonicalAddress } from '../../src/auth/remote-address.js';
import { InvalidConfigError, loadConfig } from '../../src/config.js';
import { clientAddressResolver } from '../../src/http/client-address.js';

function request(peer: string, forwardedFor?: string): IncomingMessage {
  return { socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} } as unknown as IncomingMessage;
}

describe('client address', () => {
  it.each([
    // trusted, peer, X-Forwarded-For, the client
    [[], '203.0.113.7', undefined, '203.0.113.7'],
    [[], '203.0.113.7', '198.51.100.1', '203.0.113.7'], // nobody trusted: the header is the client's word, ignored
    [[], '::ffff:203.0.113.7', undefined, '203.0.113.7'],
    [['loopback'], '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    [['loopback'], '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
    [['loopback'], '127.0.0.1', '6.6.6.6, 198.51.100.1', '198.51.100.1'], // a forged left entry is not believed
    [['loopback'], '203.0.113.7', '198.51.100.1', '203.0.113.7'], // not from the proxy: header ignored
    [['10.0.0.0/8'], '10.1.2.3', '198.51.100.1, 10.9.9.9', '198.51.100.1'], // a chain of trusted proxies
    [['loopback'], '127.0.0.1', undefined, '127.0.0.1'],
    [['loopback'], '::1', '2001:db8::5', '2001:db8::5'],
  ])('trusting %j, peer %s forwarding %s → %s', (trusted, peer, forwarded, expected) => {
    expect(clientAddressResolver(trusted)(request(peer, forwarded))).toBe(expected);
  });

  it('refuses a list entry that is not an address, a CIDR or a known name', () => {
    expect(() => loadConfig({ HOOKYARD_TRUSTED_PROXIES: '10.0.0.0/8, proxy.example.com' })).toThrow(InvalidConfigError);
    expect(() => loadConfig({ HOOKYARD_TRUSTED_PROXIES: '10.0.0.0/8' })).not.toThrow();
    expect(loadConfig({ HOOKYARD_TRUSTED_PROXIES: '10.0.0.0/8, loopback ,2001:db8::/32' }).trustedProxies).toEqual(['10.0.0.0/8', 'loopback', '2001:db8::/32']);
  });
});

describe('canonical address', () => {
  // The dotted-quad shortcut must agree with ipaddr.js wherever it answers, and step aside where it cannot.
  it.each([
    '127.0.0.1', '::ffff:127.0.0.1', '0.0.0.0', '255.255.255.255', '::ffff:10.0.0.1', '010.1.1.1', '1.2.3.256', '::FFFF:1.2.3.4',
    '1.2.3', '0x7f.0.0.1', '::1', '2001:db8::5', '::ffff:7f00:1', 'not an address', '',
  ])('%j as ipaddr.js writes it', (address) => {
    const expected = ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
    expect(canonicalAddress(address)).toBe(expected);
  });

  it.each(['127.0.0.1', '::ffff:127.0.0.1', '010.1.1.1', '2001:db8:1:2:3:4:5:6', 'nonsense'])('%j keys as before', (address) => {
    const parsed = ipaddr.isValid(address) ? ipaddr.process(address) : undefined;
    const expected = !parsed ? 'unknown' : parsed.kind() === 'ipv4' ? parsed.toString() : `${(parsed as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16)).join(':')}::/64`;
    expect(addressKey(address)).toBe(expected);
  });
});
