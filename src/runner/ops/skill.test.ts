import { createHash } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SKILL_LIMITS, syncSkillOp } from './skill.js';
import { makeOpWorkspace, type OpWorkspace } from './test-support.js';

let ws: OpWorkspace;
beforeEach(async () => {
  ws = await makeOpWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

function pack(files: Zippable): { zip_data: string; checksum: string } {
  const zip = Buffer.from(zipSync(files));
  return { zip_data: zip.toString('base64'), checksum: createHash('sha256').update(zip).digest('hex') };
}

const sync = (files: Zippable, overrides: Record<string, string> = {}) =>
  syncSkillOp({ skill_name: 'deploy', skill_dir: '.tower/skills', ...pack(files), ...overrides }, ws.ctx());

const skillFile = (rel: string) => readFile(path.join(ws.root, '.tower/skills/deploy', rel), 'utf8');

describe('sync_skill', () => {
  it('extracts a skill and replaces an older version whole', async () => {
    expect(await sync({ 'SKILL.md': strToU8('v1'), 'scripts/run.sh': strToU8('echo 1'), 'old.txt': strToU8('x') }))
      .toEqual({ success: true, path: '.tower/skills/deploy' });
    expect(await skillFile('scripts/run.sh')).toBe('echo 1');
    await sync({ 'SKILL.md': strToU8('v2') });
    expect(await skillFile('SKILL.md')).toBe('v2');
    await expect(access(path.join(ws.root, '.tower/skills/deploy/old.txt'))).rejects.toThrow();
    // No temporary or old directories left beside it.
    expect(await readdir(path.join(ws.root, '.tower/skills'))).toEqual(['deploy']);
  });

  async function expectOldSkillIntact(): Promise<void> {
    expect(await skillFile('SKILL.md')).toBe('v1');
    expect(await readdir(path.join(ws.root, '.tower/skills'))).toEqual(['deploy']);
  }

  it('refuses a wrong checksum before writing anything, leaving the old skill intact', async () => {
    await sync({ 'SKILL.md': strToU8('v1') });
    const other = pack({ 'SKILL.md': strToU8('v2') });
    await expect(sync({ 'SKILL.md': strToU8('evil') }, { checksum: other.checksum })).rejects.toThrow(/checksum mismatch/);
    await expect(sync({ 'SKILL.md': strToU8('evil') }, { checksum: 'md5:abc' })).rejects.toThrow(/sha256/);
    await expectOldSkillIntact();
  });

  it('refuses zip-slip entries, leaving the old skill intact and nothing outside', async () => {
    await sync({ 'SKILL.md': strToU8('v1') });
    for (const name of ['../../../root-evil/pwned.txt', '/tmp/pwned.txt', 'a/../../pwned.txt', 'a\\..\\pwned.txt']) {
      await expect(sync({ 'SKILL.md': strToU8('v2'), [name]: strToU8('pwned') }), name).rejects.toThrow(/refused/);
    }
    expect(await readdir(ws.outside)).toEqual([]);
    await expectOldSkillIntact();
  });

  it('refuses symlink entries, leaving the old skill intact', async () => {
    await sync({ 'SKILL.md': strToU8('v1') });
    const link: Zippable = { 'SKILL.md': strToU8('v2'), 'passwd': [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] };
    await expect(sync(link)).rejects.toThrow(/symbolic links are not allowed/);
    await expectOldSkillIntact();
  });

  it('caps entry count and total size, and refuses junk archives and bad names', async () => {
    const many: Zippable = {};
    for (let i = 0; i <= SKILL_LIMITS.maxEntries; i += 1) many[`f${i}`] = strToU8('');
    await expect(sync(many)).rejects.toThrow(/entries; at most/);
    const big: Zippable = { 'big.bin': [new Uint8Array(SKILL_LIMITS.maxTotalBytes + 1), { level: 9 }] };
    await expect(sync(big)).rejects.toThrow(/unpacks to \d+ bytes/);
    const junk = Buffer.from('not a zip');
    await expect(syncSkillOp({ skill_name: 'x', skill_dir: 's', zip_data: junk.toString('base64'), checksum: createHash('sha256').update(junk).digest('hex') }, ws.ctx()))
      .rejects.toThrow(/not a valid zip/);
    await expect(sync({ a: strToU8('') }, { skill_name: '../x' })).rejects.toThrow(/invalid skill_name/);
    await expect(sync({ a: strToU8('') }, { skill_dir: '../root-evil' })).rejects.toThrow(/outside the working directory/);
    await expect(sync({ a: strToU8('') }, { zip_data: '%%%' })).rejects.toThrow(/base64/);
  });
});
