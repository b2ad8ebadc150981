import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { TowerError } from '../../protocol/errors.js';

/**
 * HTML → markdown or text, off the event loop. node-html-markdown is superlinear on large pages (a 1 MB
 * page takes about a minute), and a runner must keep heartbeating and serving other tasks meanwhile, so
 * each conversion runs in its own worker thread, terminated when it exceeds its time budget.
 *
 * The worker is plain CommonJS source (`eval`), requiring the converter by its resolved path, so it runs
 * the same from source (tsx), under the test runner and from the built package.
 */

const converterPath = createRequire(import.meta.url).resolve('node-html-markdown');

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
function htmlToText(html) {
  return html
    .replace(/<(script|style|noscript|template)\\b[^>]*>[\\s\\S]*?<\\/\\1\\s*>/gi, '')
    .replace(/<!--[\\s\\S]*?-->/g, '')
    .replace(/<(br|\\/p|\\/div|\\/h[1-6]|\\/li|\\/tr|\\/title)\\b[^>]*>/gi, '\\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#x[0-9a-f]+|#\\d+|[a-z]+);/gi, (whole, name) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/[ \\t]+\\n/g, '\\n')
    .replace(/\\n{3,}/g, '\\n\\n')
    .trim();
}
const { html, format, converterPath } = workerData;
const out = format === 'markdown' ? require(converterPath).NodeHtmlMarkdown.translate(html) : htmlToText(html);
parentPort.postMessage(out);
`;

export async function convertHtml(html: string, format: 'markdown' | 'text', timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { html, format, converterPath } });
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TowerError('tool_failed', `converting the page to ${format} took longer than ${Math.round(timeoutMs / 1000)} s; fetch it with format "html" instead`)), timeoutMs);
      const onAbort = (): void => reject(new TowerError('tool_failed', 'webfetch was canceled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (out: unknown) => resolve(String(out)));
      worker.once('error', (err) => reject(new TowerError('tool_failed', `converting the page failed: ${err.message}`)));
      worker.once('exit', (code) => reject(new TowerError('tool_failed', `the converter stopped (exit ${code})`)));
      // Cleanup runs whichever way the conversion ends.
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      worker.once('message', cleanup);
      worker.once('error', cleanup);
      worker.once('exit', cleanup);
    });
  } finally {
    await worker.terminate();
  }
}
