import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * Durable record of the commands that are running, so the next start of the server can end what a crash
 * (kill -9, OOM) left behind. One small file per command under `<data dir>/procs/`, written before the
 * command is spawned (with its marker) and again once its process group is known, and removed when its
 * whole process tree is gone.
 */
export const ProcessRecord = z.object({
  /** Also the value of `TOWER_TOOL_RUN` in the command's environment, and the file's name. */
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  command: z.string().max(500),
  working_dir: z.string(),
  started_at: z.string(),
  /** The spawned leader (bash or bwrap); its pid is the process group id. Absent until it is spawned. */
  pid: z.number().int().positive().optional(),
  /** The leader's start time in clock ticks since boot, so a reused pid is never mistaken for it. */
  start_ticks: z.number().int().nonnegative().optional(),
});
export type ProcessRecord = z.infer<typeof ProcessRecord>;

export interface ProcessRegistry {
  /** Stores or replaces the record; resolves once it is on disk. */
  put(record: ProcessRecord): Promise<void>;
  /** Forgets the record (no error when it is already gone). */
  remove(id: string): Promise<void>;
}

/** For unit tests and embedders that do not need crash recovery: keeps records in memory. */
export class MemoryProcessRegistry implements ProcessRegistry {
  readonly records = new Map<string, ProcessRecord>();

  async put(record: ProcessRecord): Promise<void> {
    this.records.set(record.id, record);
  }

  async remove(id: string): Promise<void> {
    this.records.delete(id);
  }
}

export const procsDir = (dataDir: string): string => path.join(dataDir, 'procs');

/** The registry of a server: `<dataDir>/procs/<id>.json`, directory mode 700, files 600. */
export function createProcessRegistry(dataDir: string): ProcessRegistry {
  const dir = procsDir(dataDir);
  let ready: Promise<unknown> | undefined;
  return {
    async put(record) {
      ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await ready;
      const file = path.join(dir, `${ProcessRecord.parse(record).id}.json`);
      // Written beside and renamed: a crash mid-write leaves the previous record whole, never a torn one
      // that the reaper would have to discard (and so miss the command it names).
      const temp = `${file}.tmp`;
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(record));
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    },
    async remove(id) {
      try {
        await unlink(path.join(dir, `${id}.json`));
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
      }
    },
  };
}

export type RecordRead = { file: string; record: ProcessRecord } | { file: string; error: string };

/** Every record file in the registry; unreadable or malformed ones are reported, not thrown. */
export async function readProcessRecords(dataDir: string): Promise<RecordRead[]> {
  const dir = procsDir(dataDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return [];
    throw err;
  }
  const out: RecordRead[] = [];
  // A `.tmp` left by a crash mid-update is an unfinished copy of a record that is still there whole.
  await Promise.all(names.filter((n) => n.endsWith('.json.tmp')).map((n) => unlink(path.join(dir, n)).catch(() => undefined)));
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    try {
      const parsed = ProcessRecord.safeParse(JSON.parse(await readFile(file, 'utf8')));
      out.push(parsed.success ? { file, record: parsed.data } : { file, error: parsed.error.issues[0]?.message ?? 'invalid' });
    } catch (err) {
      out.push({ file, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
