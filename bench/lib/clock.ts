import { performance } from 'node:perf_hooks';

/**
 * The machine's monotonic clock (CLOCK_MONOTONIC, which every process on one machine shares) at this
 * process's performance.now() zero. Anchoring to performance.timeOrigin (the wall clock at start-up)
 * instead made stamps of processes started at different times disagree by whatever NTP slewed or
 * stepped the wall clock in between: a 2.2 s constant "latency" in one cluster run of 12-08.
 */
const origin = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** Milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const machineMs = (): number => origin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A 100-byte (by default) text delta carrying its creation time: `@<machineMs>|xxxx…`. */
export function stampedContent(size = 100): string {
  const head = `@${machineMs().toFixed(3)}|`;
  return head + PAD.slice(0, Math.max(0, size - head.length));
}
const PAD = 'x'.repeat(4096);

/**
 * Reads the creation time out of a stamped content inside an SSE frame; NaN when absent. Frames are read
 * in order from one text: the next stamp found from an earlier frame is remembered, so frames without
 * one (nested payloads) do not each scan the rest of the text (quadratic in a chunk's frames).
 */
export function stampIn(text: string, start: number, end: number): number {
  let i: number;
  if (text === scanText && start >= scanFrom && (scanAt < 0 || scanAt >= start)) {
    i = scanAt;
  } else {
    i = text.indexOf('"content":"@', start);
    scanText = text;
    scanFrom = start;
    scanAt = i;
  }
  if (i < 0 || i >= end) return NaN;
  return parseFloat(text.slice(i + 12, i + 32));
}
let scanText = '';
let scanFrom = 0;
let scanAt = -1;
