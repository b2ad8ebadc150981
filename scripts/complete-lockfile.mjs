#!/usr/bin/env node
// The package registry these machines reach does not serve every platform build of rollup (a vitest
// dependency), so `npm install` leaves those optional packages out of package-lock.json, and npm 11's
// `npm ci` then refuses the lock as out of sync. This adds a lock entry (version, os, cpu, libc) for each
// missing platform package; `npm ci` skips them as foreign platforms without downloading anything.
// Run after any `npm install` that rewrites the lock: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
const pattern = /^@rollup\/rollup-([a-z]+(?:32)?)-([a-z0-9]+)(?:-(gnu|musl|gnueabihf|musleabihf|msvc|eabi))?$/;
let added = 0;
for (const entry of Object.values(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    const m = pattern.exec(dep);
    if (packages[key] || !m) continue;
    const [, os, cpu, abi] = m;
    packages[key] = {
      version,
      cpu: [cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(abi === 'gnu' || abi === 'gnueabihf' ? { libc: ['glibc'] } : {}),
      ...(abi === 'musl' || abi === 'musleabihf' ? { libc: ['musl'] } : {}),
      license: 'MIT',
      optional: true,
      os: [os],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
