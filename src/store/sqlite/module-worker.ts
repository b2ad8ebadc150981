import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Worker threads that run one of this folder's modules, from the build (`dist/.../name.js`, plain ESM)
 * or from source (`src/.../name.ts`, under tsx or the test runner). A `.ts` worker needs a TypeScript
 * loader in its own thread: the parent's loader hooks do not reach workers, so a small CommonJS
 * bootstrap (`eval`) registers tsx's in-thread require hook first and then requires the module. A
 * `.js` worker is imported as the ESM it is. Which one is decided by the caller's own `import.meta.url`,
 * so the build never needs tsx and the source never needs a build.
 */

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { entry, tsx } = workerData.moduleWorker;
if (tsx) {
  require(tsx).register();
  require(entry);
} else {
  // An error here reaches the parent as the worker's 'error' event, as a throw at the top would.
  import(require('node:url').pathToFileURL(entry).href).catch((err) => process.nextTick(() => { throw err; }));
}
`;

const tsxHook = (): string => createRequire(import.meta.url).resolve('tsx/cjs/api');

/**
 * Starts `name` (a module next to `callerUrl`, without extension) in a worker thread; `workerData` is
 * available to it as `workerData` (its `moduleWorker` key is the bootstrap's).
 */
export function startModuleWorker(callerUrl: string, name: string, workerData: Record<string, unknown>): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = fileURLToPath(new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl));
  return new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { ...workerData, moduleWorker: { entry, tsx: fromSource ? tsxHook() : undefined } },
  });
}

/** A worker's error as an Error: a driver error reaches the parent as a plain clone (a SqliteError keeps only its `code`). */
export function describeError(err: unknown): Error {
  if (err instanceof Error && err.message) return err;
  const { message, code } = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown };
  const text = [code, message].filter((x) => typeof x === 'string' && x !== '').join(': ');
  return new Error(text || String(err));
}
