/**
 * Sampled token keys for the per-hop probe of the sessions benchmark (bench/sessions-hops.ts): the fake
 * model's tokens are `s<session>.<n> `; one in `EVERY` (by n) is followed through every hop, keyed
 * `session * KEY_SPAN + n`.
 */
export const EVERY = 4;
export const KEY_SPAN = 1_000_000;

const TOKEN = /s(\d+)\.(\d+) /g;

/** Calls `seen(key)` for each sampled token in a text delta. */
export function sampledTokens(content: unknown, seen: (key: number) => void): void {
  if (typeof content !== 'string' || content.length === 0) return;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(content); m !== null; m = TOKEN.exec(content)) {
    const n = Number(m[2]);
    if (n % EVERY === 0) seen(Number(m[1]) * KEY_SPAN + n);
  }
}

/** Per sampled token, the machineMs at each hop (NaN: not seen); the first sighting of a hop counts. */
export class HopTimes {
  readonly times = new Map<number, Float64Array>();
  constructor(private readonly hops: number) {}

  mark(key: number, hop: number, at: number): void {
    let t = this.times.get(key);
    if (t === undefined) this.times.set(key, (t = new Float64Array(this.hops).fill(NaN)));
    if (t[hop] !== t[hop]) t[hop] = at;
  }

  /** [key, ...times] rows (NaN as null over IPC's JSON). */
  rows(): Array<Array<number | null>> {
    const out: Array<Array<number | null>> = [];
    for (const [key, t] of this.times) out.push([key, ...Array.from(t, (v) => (v === v ? v : null))]);
    this.times.clear();
    return out;
  }
}
