import { writeFile } from 'node:fs/promises';
import { buildHookyardSchema, printHookyardSchema } from './schema.js';

/** `npm run schema`: rewrites schema.graphql from the code. */
const schema = await buildHookyardSchema();
await writeFile(new URL('../../../schema.graphql', import.meta.url), printHookyardSchema(schema));
console.log('schema.graphql written');
