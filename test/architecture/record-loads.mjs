// Loader hooks for lazy-loading.test.ts: appends the URL of every module the process resolves to the file
// named in `data.out`, synchronously, so the list is complete when the process exits.
import { appendFileSync } from 'node:fs';

let out;

export function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, `${result.url}\n`);
  return result;
}
