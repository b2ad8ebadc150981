/**
 * Diffs two V8 heap snapshots by constructor: what a set of objects (e.g. N idle subscribers) retains.
 *
 *   npx tsx bench/heap.ts BEFORE.heapsnapshot AFTER.heapsnapshot [per=N] [top=30]
 *
 * Self sizes only (no retained-size computation): each row is what objects of that constructor weigh
 * themselves, divided by `per` when given (e.g. per subscriber).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function byConstructor(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
    const key = type === 'closure' ? `closure ${name}` : name;
    const row = out.get(key) ?? { count: 0, size: 0 };
    row.count++;
    row.size += snap.nodes[i + sizeAt]!;
    out.set(key, row);
  }
  return out;
}

const [beforeFile, afterFile, perArg, topArg] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  process.stderr.write('usage: tsx bench/heap.ts BEFORE.heapsnapshot AFTER.heapsnapshot [per] [top]\n');
  process.exit(2);
}
const per = Number(perArg ?? 1);
const top = Number(topArg ?? 30);
const before = byConstructor(beforeFile);
const after = byConstructor(afterFile);
const rows = [...after].map(([name, a]) => {
  const b = before.get(name) ?? { count: 0, size: 0 };
  return { name, count: (a.count - b.count) / per, size: (a.size - b.size) / per };
});
const total = rows.reduce((s, r) => s + r.size, 0);
process.stdout.write(`self size delta: ${(total / 1024).toFixed(2)} KB${per > 1 ? ` per unit (/${per})` : ''}\n`);
for (const r of rows.sort((x, y) => y.size - x.size).slice(0, top)) {
  process.stdout.write(`${(r.size / 1024).toFixed(3).padStart(9)} KB  ${r.count.toFixed(2).padStart(8)} objs  ${r.name}\n`);
}
