import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console's production build (`npm run build`), into dist/console/, which Hookyard serves at
 * `/` (src/http/console-route.ts). Nothing is inlined into index.html and no asset becomes a
 * data: URL, so the page runs under `script-src 'self'; style-src 'self'`.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  // Preact's JSX through Vite's own transform (no Babel plugin: there is no dev server to refresh).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
});
