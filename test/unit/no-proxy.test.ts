import { describe, expect, it } from 'vitest';
import { bypassesProxy } from '../../src/delivery/no-proxy.js';

describe('NO_PROXY', () => {
  it.each<[string | undefined, string, boolean]>([
    [undefined, 'https://example.com/', false],
    ['', 'https://example.com/', false],
    ['*', 'https://anything.example/', true],
    ['example.com', 'https://example.com/hook', true],
    ['example.com', 'https://api.example.com/hook', true],
    ['example.com', 'https://notexample.com/hook', false],
    ['.example.com', 'https://example.com/', true],
    ['.example.com', 'https://a.b.example.com/', true],
    ['*.example.com', 'https://example.com/', true],
    ['*.example.com', 'https://api.example.com/', true],
    ['EXAMPLE.com', 'https://Example.COM/', true],
    ['example.com:8443', 'https://example.com:8443/', true],
    ['example.com:8443', 'https://example.com/', false],
    ['example.com:443', 'https://example.com/', true],
    ['example.com:80', 'http://example.com/', true],
    ['example.com:80', 'https://example.com/', false],
    ['127.0.0.1', 'http://127.0.0.1:9000/', true],
    ['127.0.0.1', 'http://127.0.0.2/', false],
    ['[::1]', 'http://[::1]:8080/', true],
    ['[::1]:8080', 'http://[::1]:8080/', true],
    ['[::1]:8080', 'http://[::1]:9090/', false],
    ['other.test, example.com', 'https://example.com/', true],
    ['other.test example.com', 'https://example.com/', true],
    ['other.test,,', 'https://example.com/', false],
  ])('%j bypasses for %s: %s', (noProxy, url, expected) => {
    expect(bypassesProxy(new URL(url), noProxy)).toBe(expected);
  });
});
