import { createRequire } from 'node:module';

// Both src/server (tsx) and dist/server (built) sit two levels below the package root.
const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const VERSION: string = pkg.version;
