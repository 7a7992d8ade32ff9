import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The README section under `## title`, up to the next `## ` heading. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

const backticked = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** Every name the schema defines: types, fields, arguments, input fields, enum values. */
function schemaNames(): Set<string> {
  const schema = buildSchema(readFileSync(path.join(root, 'schema.graphql'), 'utf8'));
  const names = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    names.add(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        names.add(field.name);
        for (const arg of field.args) names.add(arg.name);
      }
    }
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) names.add(field.name);
    if (isEnumType(type)) for (const value of type.getValues()) names.add(value.name);
  }
  return names;
}

describe('README "Not yet"', () => {
  it('names features that are not in schema.graphql (update the list when one lands)', () => {
    const pending = backticked(section('Not yet')).filter((name) => /^[A-Za-z_]\w*$/.test(name));
    expect(pending.length).toBeGreaterThanOrEqual(3);
    const names = schemaNames();
    expect(names.has('deliveryUpdated')).toBe(true);
    expect(pending.filter((name) => names.has(name))).toEqual([]);
  });
});

describe('README "Layout"', () => {
  it('names every folder and top-level file of src/, and the test and bench folders', () => {
    const named = new Set(backticked(section('Layout')).flatMap((cell) => cell.split(/,\s*/)));
    const src = readdirSync(path.join(root, 'src'), { withFileTypes: true });
    const expected = [
      ...src.filter((e) => e.isDirectory()).map((e) => `src/${e.name}`),
      ...src.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => e.name),
      'test',
      'bench',
    ];
    expect(expected.filter((name) => !named.has(name))).toEqual([]);
  });
});
