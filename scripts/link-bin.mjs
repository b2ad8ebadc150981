// `npx tower` in a checkout must run this checkout's CLI, offline. npm does not link a package's own
// `bin` into its node_modules/.bin, and npm 11's exec, seeing a matching `bin` in package.json, tries to
// install the checkout into its npx cache and fails (ENOENT on the cache's package.json). So package.json
// declares no `bin`, and `prepare` runs this after the build: node_modules/.bin/tower -> the built CLI,
// which npm exec finds as a local binary.
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BINS = { tower: 'dist/cli/main.js' };

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const binDir = path.join(root, 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
for (const [name, target] of Object.entries(BINS)) {
  const file = path.join(root, target);
  if (!existsSync(file)) throw new Error(`link-bin: ${target} is not built`);
  chmodSync(file, 0o755);
  const link = path.join(binDir, name);
  try {
    if (lstatSync(link)) unlinkSync(link);
  } catch {
    // no link yet
  }
  symlinkSync(path.relative(binDir, file), link);
}
