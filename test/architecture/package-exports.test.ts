import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  files: string[];
  dependencies: Record<string, string>;
};
const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { exclude: string[] };

/** The source file tsconfig.build.json compiles to a `./dist/…` path. */
const sourceOf = (distPath: string): string => distPath.replace(/^\.\/dist\//, 'src/').replace(/\.(d\.ts|js)$/, '.ts');

describe('package.json exports', () => {
  it('offers the server, the SDK and the protocol, each with its types', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './client', './package.json', './protocol']);
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (name === './package.json') continue;
      expect(typeof target).toBe('object');
      const { types, default: main } = target as { types: string; default: string };
      // `types` first: TypeScript takes the first condition that matches.
      expect(Object.keys(target)[0]).toBe('types');
      expect(types).toBe(main.replace(/\.js$/, '.d.ts'));
      const source = sourceOf(main);
      expect(existsSync(path.join(ROOT, source)), `${name} -> ${source}`).toBe(true);
      expect(build.exclude.some((pattern) => source.includes(pattern.replace(/\*\*\/?|\*/g, ''))), source).toBe(false);
    }
  });

  it('ships the build, and ws only as a development dependency (only bench/ uses it)', () => {
    expect(pkg.files).toContain('dist');
    expect(pkg.dependencies.ws).toBeUndefined();
  });
});
