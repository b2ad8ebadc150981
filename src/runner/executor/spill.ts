import { randomUUID } from 'node:crypto';
import { LIMITS, OUTPUTS_DIR } from './limits.js';
import { writeInside } from './safe-open.js';
import { displayPath, resolveInside } from './sandbox.js';

/**
 * Keeps a tool result within what a model can usefully read. A result longer than `maxResultChars` is saved
 * whole to `<workingDir>/.tower/outputs/<callId>.txt` and replaced by a preview (the first lines) and a
 * trailer naming `truncated`, `file_path` and `total_size`, the same fields the Flashduty runner reports, so
 * the model can page through the file with read or search it with grep.
 */
export async function spillIfLong(text: string, root: string, callId: string): Promise<string> {
  if (text.length <= LIMITS.maxResultChars) return text;
  const totalSize = Buffer.byteLength(text, 'utf8');
  const preview = previewOf(text);
  try {
    // Through the sandbox like any other write: a `.tower` symlink pointing outside must not redirect it.
    const file = await resolveInside(root, `${OUTPUTS_DIR}/${fileStem(callId)}.txt`);
    await writeInside(root, file, text);
    const filePath = displayPath(root, file);
    return [
      preview,
      '',
      `[truncated: true, file_path: ${filePath}, total_size: ${totalSize} bytes]`,
      `The full output was saved to ${filePath}; read it with the read tool (offset/limit) or search it with grep.`,
    ].join('\n');
  } catch (err) {
    // Still return something useful: a preview without the file beats failing a command that succeeded.
    const why = err instanceof Error ? err.message : String(err);
    return [
      preview,
      '',
      `[truncated: true, total_size: ${totalSize} bytes; the full output could not be saved: ${why}]`,
    ].join('\n');
  }
}

/** The first `previewLines` lines, at most `previewChars` characters. */
export function previewOf(text: string): string {
  const lines = text.split('\n', LIMITS.previewLines + 1);
  let preview = lines.slice(0, LIMITS.previewLines).join('\n');
  if (preview.length > LIMITS.previewChars) preview = preview.slice(0, LIMITS.previewChars);
  return preview;
}

/** Call ids come from the model provider; keep only characters that are safe in a file name. */
function fileStem(callId: string): string {
  const safe = callId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100);
  return safe === '' ? randomUUID() : safe;
}
