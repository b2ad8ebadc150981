/**
 * Every cap the built-in tools apply, in one place so the tool descriptions shown to the model and the code
 * that enforces them cannot drift apart. Values follow the Flashduty runner (PROTOCOLS.md §4) where it has
 * one, so a session behaves the same on a local and a remote runner.
 */
export const LIMITS = {
  /** read: lines returned when `limit` is not given. */
  readDefaultLines: 2000,
  /** read, grep: a longer line is cut, so one minified file cannot flood the model's context. */
  maxLineChars: 2000,
  /** read: total characters returned by one call; the model continues with `offset`. */
  readMaxChars: 100_000,
  /** read, grep: a NUL byte in this many leading bytes marks a file as binary. */
  binarySniffBytes: 8192,
  /** list: entries shown. */
  listMaxEntries: 1000,
  /** glob: paths shown. */
  globMaxResults: 1000,
  /** grep: matching lines shown. */
  grepMaxMatches: 500,
  /** grep: a matching line is cut to this many characters in the result. */
  grepMaxLineChars: 500,
  /** grep: a longer line is searched only in its first this-many characters (bounded memory and time). */
  grepMaxScanLineChars: 64 * 1024,
  /** grep: larger files are skipped (and counted in a note) rather than loaded whole. */
  grepMaxFileBytes: 10 * 1024 * 1024,
  /** bash: seconds, when `timeout` is not given. */
  bashDefaultTimeoutSec: 120,
  /** bash: seconds; larger values are refused, never clamped, so the model learns the real limit. */
  bashMaxTimeoutSec: 600,
  /** bash: bytes of stdout+stderr kept; the rest is drained and discarded so the process never blocks. */
  bashMaxCaptureBytes: 10 * 1024 * 1024,
  /** bash: after SIGTERM to the process group, wait this long before SIGKILL. */
  killGraceMs: 2000,
  /**
   * bash: once `bash` itself has exited, how long to wait for its output pipes to close. A background job
   * that still holds them would otherwise keep the call open until the timeout.
   */
  pipeDrainGraceMs: 500,
  /** Results longer than this many characters are saved whole to a file and previewed (bash, grep). */
  maxResultChars: 30_000,
  /** Preview of a spilled result: at most this many lines... */
  previewLines: 20,
  /** ...and at most this many characters. */
  previewChars: 8000,
} as const;

/** Directories the tree walkers (glob, grep) do not descend into. `.tower` holds Tower's own scratch files. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '.tower']);

/** Where spilled results go, relative to the working directory. */
export const OUTPUTS_DIR = '.tower/outputs';
