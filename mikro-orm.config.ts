/**
 * For the MikroORM CLI (`npx mikro-orm migration:create`). The CLI's TypeScript loader cannot
 * read decorated files, so run it against the compiled copy:
 * `npm run build && MIKRO_ORM_CLI_CONFIG=dist/mikro-orm.config.js MIKRO_ORM_CLI_PREFER_TS=false npx mikro-orm migration:create`.
 */
import { ormConfig } from './src/db/orm-config.js';

export default ormConfig(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hookyard');
