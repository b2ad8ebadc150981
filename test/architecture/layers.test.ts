import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importEdges, layerOf, type ImportEdge } from './import-graph.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * Which folders each folder may import (besides itself). Imports point down only:
 * protocol <- core <- transports <- server <- cli; client/ and runner/ speak the protocol and nothing else.
 */
const ALLOWED: Record<string, (target: string) => boolean> = {
  protocol: () => false,
  client: (to) => to === 'protocol',
  runner: (to) => to === 'protocol',
  store: (to) => to === 'protocol',
  bus: (to) => to === 'protocol',
  core: (to) => !/^(transports|cli|server|client|fake-models)$/.test(to),
  'fake-models': (to) => to === 'protocol' || to.startsWith('core'),
  transports: (to) => !/^(cli|server|client|fake-models)$/.test(to),
  server: (to) => !/^(cli|client)$/.test(to),
  cli: () => true,
};

/**
 * Known cycles, each with its reason. Remove an entry when its cycle is gone (the test fails on an entry
 * that no longer matches, so this list cannot go stale).
 */
const ALLOWED_CYCLES: { files: string[]; reason: string }[] = [];

function topFolder(file: string): string {
  return file.includes('/') ? file.split('/')[0]! : '.';
}

/** Edges that point up or sideways against `ALLOWED`, as `from -> to` lines. */
function upwardEdges(edges: ImportEdge[]): string[] {
  return edges
    .filter((edge) => {
      const from = topFolder(edge.from);
      const to = topFolder(edge.to);
      if (from === to) return false;
      const rule = ALLOWED[from];
      return rule === undefined || !rule(layerOf(edge.to));
    })
    .map((edge) => `${edge.from} -> ${edge.to}${edge.typeOnly ? ' (type only)' : ''}`);
}

describe('import graph of src/', () => {
  const edges = importEdges(SRC);

  it('reads the imports (the graph is not empty, type-only and dynamic imports included)', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges).toContainEqual({ from: 'cli/commands/serve.ts', to: 'cli/serve.ts', typeOnly: false });
    expect(edges.some((edge) => edge.typeOnly)).toBe(true);
  });

  it('has no upward arrows', () => {
    expect(upwardEdges(edges)).toEqual([]);
  });

  it('has no cycles between files, except the listed ones', () => {
    const found = cycles(edges).map((files) => files.join(' <-> '));
    expect(found).toEqual(ALLOWED_CYCLES.map((entry) => entry.files.join(' <-> ')));
  });

  it('has no cycles between folders', () => {
    const between = edges
      .map((edge) => ({ from: layerOf(edge.from), to: layerOf(edge.to), typeOnly: edge.typeOnly }))
      .filter((edge) => edge.from !== edge.to);
    expect(cycles(between)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find a cycle, type-only edges included', () => {
    const edges: ImportEdge[] = [
      { from: 'a.ts', to: 'b.ts', typeOnly: false },
      { from: 'b.ts', to: 'c.ts', typeOnly: true },
      { from: 'c.ts', to: 'a.ts', typeOnly: false },
      { from: 'c.ts', to: 'd.ts', typeOnly: false },
    ];
    expect(cycles(edges)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('flag an upward arrow', () => {
    expect(upwardEdges([
      { from: 'client/http.ts', to: 'core/logger.ts', typeOnly: true },
      { from: 'protocol/api.ts', to: 'store/types.ts', typeOnly: false },
      { from: 'core/agent/x.ts', to: 'transports/http/app.ts', typeOnly: false },
      { from: 'core/agent/x.ts', to: 'core/models/types.ts', typeOnly: false },
      { from: 'client/http.ts', to: 'protocol/api.ts', typeOnly: false },
    ])).toEqual([
      'client/http.ts -> core/logger.ts (type only)',
      'protocol/api.ts -> store/types.ts',
      'core/agent/x.ts -> transports/http/app.ts',
    ]);
  });
});
