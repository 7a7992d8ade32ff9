import { describe, expect, it } from 'vitest';
import { parseJsonOrUndefined } from '../../src/lenient-json.js';

describe('parseJsonOrUndefined', () => {
  it.each<[string, string, unknown]>([
    ['an object', '{"a":[1,true]}', { a: [1, true] }],
    ['JSON null is a value, not a failure', 'null', null],
    ['a bare string', '"x"', 'x'],
    ['a form post', 'a=1&b=2', undefined],
    ['an empty body', '', undefined],
    ['truncated JSON', '{"a":', undefined],
  ])('%s', (_, text, value) => {
    expect(parseJsonOrUndefined(text)).toEqual(value);
    expect(parseJsonOrUndefined(Buffer.from(text))).toEqual(value);
  });
});
