import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123232418_initial } from './Migration20261123232418_initial.js';

/** Listed explicitly (no glob) so the compiled app and the TypeScript tests find the same set. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261123232418_initial', class: Migration20261123232418_initial },
];
