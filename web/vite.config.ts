import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard builds into dist/web, which the HTTP server serves (src/transports/http/static.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  // `TOWER_URL=http://127.0.0.1:7420 npm run dev:web`: the dev server forwards the API to a running Tower.
  server: process.env['TOWER_URL'] ? { proxy: { '/api': { target: process.env['TOWER_URL'], changeOrigin: true } } } : {},
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or module-preload polyfill: the CSP allows same-origin script files only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 800,
  },
});
