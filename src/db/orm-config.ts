import 'reflect-metadata';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';

/** MikroORM options shared by the app, the tests and the CLI (`mikro-orm.config.ts`). */
export function ormConfig(clientUrl: string, poolSize = 10): Options {
  return defineConfig({
    clientUrl,
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    pool: { min: 0, max: poolSize },
    // The ORM logs through pino at the call sites that care; its own query log stays off.
    debug: false,
    migrations: {
      tableName: 'hookyard_migrations',
      migrationsList: migrations,
      path: 'src/db/migrations',
      emit: 'ts',
      snapshot: false,
      transactional: true,
      allOrNothing: true,
    },
  });
}
