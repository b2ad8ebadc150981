import { TowerError } from '../../protocol/errors.js';

/** What the central directory says about one entry; fflate does not expose the file type. */
export interface ZipEntryInfo {
  name: string;
  isDir: boolean;
  /** A Unix symlink, device, FIFO or socket entry: never extracted. */
  special: 'symlink' | 'other' | null;
  uncompressedSize: number;
}

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;

/**
 * Reads a zip's central directory (the authoritative list of entries, and the one fflate extracts from).
 * ZIP64 archives are refused: a skill is far below the 4 GiB where ZIP64 starts.
 */
export function readZipEntries(zip: Uint8Array): ZipEntryInfo[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const bad = (why: string): TowerError => new TowerError('invalid_request', `not a valid zip archive: ${why}`);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i -= 1) {
    if (view.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record');
  const count = view.getUint16(eocd + 10, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) throw bad('ZIP64 archives are not supported');
  const entries: ZipEntryInfo[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n += 1) {
    if (p + 46 > zip.length || view.getUint32(p, true) !== CDH_SIG) throw bad('truncated central directory');
    const madeBy = view.getUint16(p + 4, true);
    const uncompressedSize = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const external = view.getUint32(p + 38, true);
    if (p + 46 + nameLen > zip.length) throw bad('truncated entry name');
    const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen));
    const unixMode = madeBy >> 8 === 3 ? (external >>> 16) & 0o170000 : 0;
    const special = unixMode === 0o120000 ? 'symlink' : unixMode === 0 || unixMode === 0o100000 || unixMode === 0o040000 ? null : 'other';
    entries.push({ name, isDir: name.endsWith('/') || unixMode === 0o040000, special, uncompressedSize });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** A safe relative path inside the extraction directory, or a reason why not (zip-slip and friends). */
export function unsafeEntryName(name: string): string | null {
  if (name === '' || name.length > 1024) return 'empty or overlong name';
  if (name.includes('\0')) return 'NUL in name';
  if (name.includes('\\')) return 'backslash in name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute path';
  if (name.split('/').some((seg) => seg === '..')) return '".." segment';
  return null;
}
