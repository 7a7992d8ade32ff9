import { configTable } from './config.js';

/** `npm run config-table`: prints the README's configuration table from the schema. */
console.log(configTable());
