import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { TowerError } from '../../protocol/errors.js';
import type { SyncSkillArgs, SyncSkillResult } from '../../protocol/runner.js';
import { displayPath, isInside, resolveInside } from '../executor/index.js';
import type { OpContext } from './context.js';
import { readZipEntries, unsafeEntryName } from './zip-entries.js';

export const SKILL_LIMITS = {
  maxEntries: 2000,
  maxTotalBytes: 50 * 1024 * 1024,
} as const;

const SKILL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * `sync_skill`: installs a skill from a base64 zip at `<skill_dir>/<skill_name>` in the workspace.
 *
 * Order matters: the sha256 is verified before anything touches the disk; every entry is checked (no
 * zip-slip path, no symlink or device entry, entry count and total size capped, using the sizes from the
 * central directory that fflate itself extracts with); the files go to a fresh temporary directory beside
 * the target; only then is the old skill renamed away and the new one renamed into place. A failure at any
 * step leaves the old skill as it was. The swap is two renames, so for an instant the target is absent.
 */
export async function syncSkillOp(args: SyncSkillArgs, ctx: OpContext): Promise<SyncSkillResult> {
  if (!SKILL_NAME.test(args.skill_name) || args.skill_name === '.' || args.skill_name === '..') {
    throw new TowerError('invalid_request', `invalid skill_name ${JSON.stringify(args.skill_name)}: letters, digits, ".", "_" and "-" only`);
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(args.zip_data) || args.zip_data.length % 4 !== 0) {
    throw new TowerError('invalid_request', 'zip_data must be base64');
  }
  const zip = Buffer.from(args.zip_data, 'base64');
  verifyChecksum(zip, args.checksum);

  const entries = readZipEntries(zip);
  if (entries.length > SKILL_LIMITS.maxEntries) throw new TowerError('invalid_request', `skill archive has ${entries.length} entries; at most ${SKILL_LIMITS.maxEntries} are allowed`);
  let total = 0;
  for (const entry of entries) {
    const unsafe = unsafeEntryName(entry.name);
    if (unsafe !== null) throw new TowerError('invalid_request', `skill archive entry ${JSON.stringify(entry.name)} refused: ${unsafe}`);
    if (entry.special !== null) throw new TowerError('invalid_request', `skill archive entry ${JSON.stringify(entry.name)} refused: ${entry.special === 'symlink' ? 'symbolic links' : 'special files'} are not allowed`);
    total += entry.uncompressedSize;
  }
  if (total > SKILL_LIMITS.maxTotalBytes) throw new TowerError('invalid_request', `skill archive unpacks to ${total} bytes; at most ${SKILL_LIMITS.maxTotalBytes} are allowed`);

  let files: Record<string, Uint8Array>;
  try {
    // The filter sees the same central-directory sizes checked above; outputs are sized from them.
    files = unzipSync(zip, { filter: (f) => f.originalSize <= SKILL_LIMITS.maxTotalBytes });
  } catch (err) {
    throw new TowerError('invalid_request', `not a valid zip archive: ${err instanceof Error ? err.message : String(err)}`);
  }
  const extracted = Object.entries(files).reduce((sum, [, data]) => sum + data.length, 0);
  if (extracted > SKILL_LIMITS.maxTotalBytes) throw new TowerError('invalid_request', 'skill archive unpacks past the size limit');

  const skillDir = await resolveInside(ctx.root, args.skill_dir);
  const target = await resolveInside(ctx.root, path.join(displayPath(ctx.root, skillDir), args.skill_name));
  await mkdir(skillDir, { recursive: true });
  const tmp = path.join(skillDir, `.${args.skill_name}.tmp-${randomUUID()}`);
  const old = path.join(skillDir, `.${args.skill_name}.old-${randomUUID()}`);
  await mkdir(tmp);
  try {
    for (const [name, data] of Object.entries(files)) {
      const dest = path.resolve(tmp, name);
      if (!isInside(tmp, dest)) throw new TowerError('invalid_request', `skill archive entry ${JSON.stringify(name)} refused: outside the skill directory`);
      if (name.endsWith('/')) {
        await mkdir(dest, { recursive: true });
        continue;
      }
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, data, { flag: 'wx' });
    }
    const existed = await stat(target).then(() => true, () => false);
    if (existed) await rename(target, old);
    try {
      await rename(tmp, target);
    } catch (err) {
      if (existed) await rename(old, target);
      throw err;
    }
    if (existed) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { success: true, path: displayPath(ctx.root, target) };
}

function verifyChecksum(zip: Buffer, checksum: string): void {
  const expected = checksum.trim().toLowerCase().replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new TowerError('invalid_request', 'checksum must be a sha256 hex digest');
  const actual = createHash('sha256').update(zip).digest();
  if (!timingSafeEqual(actual, Buffer.from(expected, 'hex'))) {
    throw new TowerError('invalid_request', 'skill archive checksum mismatch: the zip is not the one the checksum names; nothing was written');
  }
}
