import { unlink } from 'node:fs/promises';
import { killTree } from './executor/process-group.js';
import { readProcessRecords } from './process-registry.js';

/** The slice of a pino logger the runner needs, so it does not depend on the server's logger module. */
export interface RunnerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Kills every command a previous server process left running (it was killed before it could end them),
 * then clears the registry. Call at start-up, before turn recovery records those commands as interrupted,
 * so nothing they do can land after that record. Processes are matched by their environment marker and by
 * a process group whose leader's start time matches the record, never by pid alone.
 */
export async function reapOrphanedCommands(dataDir: string, logger: RunnerLogger): Promise<{ killed: number }> {
  let killed = 0;
  for (const entry of await readProcessRecords(dataDir)) {
    if ('error' in entry) {
      logger.warn({ file: entry.file, error: entry.error }, 'unreadable process record removed');
    } else {
      const { record } = entry;
      const found = await killTree({ pgid: record.pid ?? 0, startTicks: record.start_ticks ?? 0, marker: record.id });
      killed += found;
      if (found > 0) {
        logger.warn(
          { command_id: record.id, command: record.command, working_dir: record.working_dir, processes: found },
          'killed a command left running by a previous server process',
        );
      }
    }
    await unlink(entry.file).catch(() => undefined);
  }
  if (killed > 0) logger.info({ killed }, 'orphaned commands reaped');
  return { killed };
}
