import { z } from 'zod';
import { LIMITS } from '../limits.js';
import { chooseSandbox } from '../os-sandbox.js';
import { runCommand } from '../run-command.js';
import { spillIfLong } from '../spill.js';
import { defineTool, fail, ok } from '../tool.js';

const schema = z.object({
  command: z.string().min(1).describe('The command line, run with `bash -c`.'),
  timeout: z
    .number()
    .positive()
    // Refused, not clamped: a silently shortened timeout would look like a hang to the model.
    .max(LIMITS.bashMaxTimeoutSec, {
      message: `timeout may be at most ${LIMITS.bashMaxTimeoutSec} seconds; split the work or run it in the background with its output redirected to a file`,
    })
    .optional()
    .describe(`Seconds before the command is killed (default ${LIMITS.bashDefaultTimeoutSec}, max ${LIMITS.bashMaxTimeoutSec}).`),
});

export const bashTool = defineTool({
  name: 'bash',
  description: [
    'Run a shell command with `bash -c`, in the working directory, with stdin closed and TOWER=1 set.',
    'When sandboxed (the default where bubblewrap works): everything outside the working directory and /tmp',
    'is read-only, there is no network unless the session allows it, and background jobs end with the',
    'command. The environment is',
    'minimal (PATH, HOME, LANG, TERM, TMPDIR, USER, SHELL and configured extras); no secrets are passed.',
    `It is killed with its whole process tree after \`timeout\` seconds (default ${LIMITS.bashDefaultTimeoutSec},`,
    `max ${LIMITS.bashMaxTimeoutSec}) and then reports exit code 124. Returns stdout and stderr interleaved,`,
    'followed by "exit code N". Output past 10 MB is discarded; a result longer than',
    `${LIMITS.maxResultChars} characters is saved whole to a file under .tower/outputs/ and a preview of its`,
    'first lines is returned with the file path, to read with the read or grep tools. Unsandboxed, background',
    'jobs that still hold the output when the command exits are terminated; redirect their output',
    '(`cmd > log 2>&1 &`) to keep them running. Prefer the read, write, list, glob and grep tools for file work.',
  ].join(' '),
  schema,
  async run(args, ctx) {
    const timeoutSec = args.timeout ?? LIMITS.bashDefaultTimeoutSec;
    const settings = ctx.commands;
    const sandbox = await chooseSandbox({
      mode: settings.sandbox,
      network: settings.network,
      hide: settings.hide,
      root: ctx.root,
      ...(settings.logger ? { logger: settings.logger } : {}),
    });
    let outcome;
    try {
      outcome = await runCommand({
        env: settings.env,
        sandbox: sandbox.kind === 'bwrap' ? sandbox.options : null,
        registry: settings.registry,
        command: args.command,
        cwd: ctx.root,
        timeoutMs: timeoutSec * 1000,
        signal: ctx.signal,
        ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
      });
    } catch (err) {
      return fail(`could not start bash: ${err instanceof Error ? err.message : String(err)}`);
    }

    const shown = await spillIfLong(outcome.output === '' ? '(no output)' : outcome.output, ctx.root, ctx.callId);
    // The notes and "exit code" go on their own lines; drop the output's final newline so no blank line gapes.
    const parts = [shown.endsWith('\n') ? shown.slice(0, -1) : shown];
    if (sandbox.kind === 'none' && sandbox.fallback !== undefined) {
      parts.push(`[note: ran without an OS sandbox: bubblewrap does not work here (${sandbox.fallback})]`);
    }
    if (outcome.capped) {
      parts.push(`[output exceeded ${LIMITS.bashMaxCaptureBytes / (1024 * 1024)} MB; the rest was discarded]`);
    }
    if (outcome.killedBackground) {
      parts.push(
        '[background processes still attached to the output were terminated when the command exited; ' +
          'redirect their output (`cmd > log 2>&1 &`) to keep them running]',
      );
    }
    switch (outcome.ending) {
      case 'canceled':
        parts.push('[command was canceled; its process tree was killed]');
        return fail(parts.join('\n'));
      case 'timeout':
        parts.push(`[command timed out after ${timeoutSec} seconds; its process tree was killed]`, 'exit code 124');
        return fail(parts.join('\n'), 124);
      case 'exited':
        parts.push(`exit code ${outcome.exitCode}`);
        return ok(parts.join('\n'), outcome.exitCode);
    }
  },
});
