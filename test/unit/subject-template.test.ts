import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_CHARS, renderSubject, subjectTemplateProblem } from '../../src/delivery/destinations/subject-template.js';

const scope = {
  id: 'evt_1', type: 'order.paid', source: 'shop',
  body: { data: { customer: { email: 'ada@example.org', tags: ['vip'] }, total: 42, paid: true, none: null, items: [{ sku: 'A-1' }] } },
};

describe('renderSubject', () => {
  it.each([
    ['{{type}}', 'order.paid'],
    ['{{ id }} from {{source}}', 'evt_1 from shop'],
    ['Order for {{data.customer.email}}', 'Order for ada@example.org'],
    ['{{data.total}} / {{data.paid}} / [{{data.none}}]', '42 / true / []'],
    ['{{data.items.0.sku}}', 'A-1'],
    ['{{data.customer.tags}}', '["vip"]'],
    ['[{{data.missing.path}}]', '[]'],
    // Own properties only: nothing reaches a prototype.
    ['[{{data.constructor.name}}] [{{data.__proto__}}] [{{data.customer.email.length}}]', '[] [] []'],
    ['{{ data.a + 1 }} stays', '{{ data.a + 1 }} stays'],
    ['plain', 'plain'],
  ])('%s → %s', (template, expected) => {
    expect(renderSubject(template, scope)).toBe(expected);
  });

  it('keeps a payload from breaking the header: line breaks and control characters become spaces', () => {
    const subject = renderSubject('Hi {{data.x}}', { ...scope, body: { data: { x: 'a\r\nBcc: evil@example.net\u0000\u2028b' } } });
    expect(subject).toBe('Hi a Bcc: evil@example.net b');
    expect(subject).not.toMatch(/[\r\n]/);
  });

  it(`cuts the subject at ${MAX_SUBJECT_CHARS} characters`, () => {
    expect(renderSubject('{{data.x}}{{data.x}}', { ...scope, body: { data: { x: 'y'.repeat(10_000) } } })).toHaveLength(MAX_SUBJECT_CHARS);
  });

  it('reads nothing from a body that is not JSON', () => {
    expect(renderSubject('[{{data.x}}] {{type}}', { ...scope, body: undefined })).toBe('[] order.paid');
  });
});

describe('subjectTemplateProblem', () => {
  it.each([
    ['{{type}}', undefined],
    ['{{data.customer.email}} and {{ id }}', undefined],
    ['a\nb', 'must be one line'],
    ['{{ data.a + 1 }}', 'is not a placeholder'],
    ['{{}}', 'is not a placeholder'],
    ['x'.repeat(501), 'at most 500'],
  ])('%j', (template, problem) => {
    const found = subjectTemplateProblem(template);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
