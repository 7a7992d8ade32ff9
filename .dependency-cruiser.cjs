/**
 * Hookyard's structure, checked by `npm test` (test/unit/structure.test.ts): no import circle in
 * src/, and imports point down only. Layers, top to bottom (a module may import its own layer
 * or any layer below it, never one above):
 *
 *   composition   app.ts, main.ts, reencrypt-main.ts, config.ts, config-table.ts, startup/
 *   transports    http/
 *   front doors   ingest/, graphql/
 *   domain        events/, delivery/, routing/, live/, sources/, auth/, audit/, maintenance/
 *   infrastructure db/, queue/, crypto/, wire/ (request bodies in, JSON answers out), tracing/ (spans, trace context)
 *   basics        errors.ts, ids.ts, lenient-json.ts, log.ts, version.ts, free-port.ts, metrics.ts
 */
const layers = {
  composition: '^src/(app|main|reencrypt-main|config|config-table)\\.ts$|^src/startup/',
  transports: '^src/http/',
  frontDoors: '^src/(ingest|graphql)/',
  domain: '^src/(events|delivery|routing|live|sources|auth|audit|maintenance)/',
  infrastructure: '^src/(db|queue|crypto|wire|tracing)/',
  basics: '^src/(errors|ids|lenient-json|log|version|free-port|metrics)\\.ts$',
};
const order = ['basics', 'infrastructure', 'domain', 'frontDoors', 'transports', 'composition'];
const upward = order.flatMap((lower, i) =>
  order.slice(i + 1).map((higher) => ({
    name: `${lower}-not-to-${higher}`,
    comment: `${lower} sits below ${higher}: imports point down only`,
    severity: 'error',
    from: { path: layers[lower] },
    to: { path: layers[higher] },
  })),
);

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'an import circle in src/', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'no-resolver-to-resolver',
      comment: 'a resolver never imports another resolver: mappers and loaders sit below them',
      severity: 'error',
      from: { path: '^src/graphql/resolvers/' },
      to: { path: '^src/graphql/resolvers/' },
    },
    {
      name: 'every-module-has-a-layer',
      comment: 'a file of src/ outside every layer: add it to a layer in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.values(layers).join('|') },
      to: {},
    },
    ...upward,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|test|bench|node_modules)/' },
  },
};
