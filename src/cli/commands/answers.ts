import { Option, type Command } from 'commander';
import type { CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { lazyContext } from '../lazy-context.js';
import type { AnswerOptions, ApproveOptions } from './answers-run.js';

// Registration only: what a command runs is imported when it runs, so `--help` loads no client code.
/** `tower approve|reject|answer`: answering what a session asks a person. */
export function registerAnswers(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('approve')
    .description('approve a tool call waiting for confirmation')
    .argument('<session>', 'session id')
    .argument('<tool_call_id>', 'the id in the "approval needed" line')
    .addOption(new Option('--tool', 'also approve later calls of the same tool').conflicts('session'))
    .addOption(new Option('--session', 'also approve every later call of the session (autonomous)'))
    .action((sessionId: string, toolCallId: string, options: ApproveOptions, command: Command) =>
      run(async () => (await import('./answers-run.js')).approve(await lazyContext(command, io), sessionId, toolCallId, options)),
    );

  program
    .command('reject')
    .description('reject a tool call waiting for confirmation')
    .argument('<session>', 'session id')
    .argument('<tool_call_id>', 'the id in the "approval needed" line')
    .option('--reason <text>', 'told to the model')
    .action((sessionId: string, toolCallId: string, options: { reason?: string }, command: Command) =>
      run(async () => (await import('./answers-run.js')).reject(await lazyContext(command, io), sessionId, toolCallId, options)),
    );

  program
    .command('answer')
    .description('answer a question the agent asked')
    .argument('<session>', 'session id')
    .argument('<elicitation_id>', 'the id in the "question" line')
    .argument('[text...]', 'the answer (words are joined by spaces)')
    .addOption(new Option('--decline', 'decline to answer').conflicts(['cancel', 'jsonContent']))
    .addOption(new Option('--cancel', 'cancel the question').conflicts('jsonContent'))
    .option('--json-content <json>', 'the answer as a JSON object, for questions with several fields')
    .addHelpText(
      'after',
      '\nA text answer fills the question\'s one field (its only required property, converted to its type),\n' +
        'or becomes {"answer": text} when the question has no schema. Questions with several fields need\n' +
        '--json-content \'{"field": …}\'.\n',
    )
    .action((sessionId: string, elicitationId: string, words: string[], options: AnswerOptions, command: Command) =>
      run(async () => (await import('./answers-run.js')).answer(await lazyContext(command, io), sessionId, elicitationId, words, options)),
    );
}
