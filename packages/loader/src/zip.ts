// Minimal zip reader and writer for torch.save archives: the central directory is the truth (local headers may carry
// zero sizes), zip64 end records are understood, and deflated entries are inflated with a hard bound (no zip bombs).
// Archives that two readers could read differently are refused: duplicate names, records sharing bytes, a central
// directory away from its end record (Python's zipfile would shift every offset), names that differ between the
// central directory and the local header, names holding a NUL (Python cuts them there).
import {
  ZStream,
  zlibInflateInit2,
  zlibInflate,
  zlibInflateEnd,
  Z_FINISH,
  Z_STREAM_END,
  Z_OK,
  Z_BUF_ERROR,
} from 'pako';
import { PthError, HINT_CORRUPT } from './errors.js';
import { LIMITS, type Limits } from './limits.js';
import { quote } from './text.js';

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflated
  crc32: number;
  compressedSize: number;
  size: number; // uncompressed size from the central directory
  localHeaderOffset: number;
  dataStart: number; // first byte of the (compressed) data, after the local header
}

export interface ZipArchive {
  bytes: Uint8Array;
  entries: Map<string, ZipEntry>;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD_SIZE = 56; // without extensible data, as every writer (and Python's reader) assumes
const ZIP64_LOCATOR_SIZE = 20;
const HINT_AMBIGUOUS =
  'zip readers could disagree on its contents: refusing an ambiguous (crafted or damaged) archive; re-save it with torch.save';

function corrupt(what: string): PthError {
  return new PthError('PTH_CORRUPT', `zip archive is corrupt (${what})`, HINT_CORRUPT);
}

/** A structure two zip readers would read differently: refused, whatever caused it. */
function ambiguous(what: string): PthError {
  return new PthError('PTH_CORRUPT', `zip archive is corrupt (${what})`, HINT_AMBIGUOUS);
}

function truncated(what: string): PthError {
  return new PthError(
    'PTH_TRUNCATED',
    `file is truncated (${what})`,
    'the download or copy was cut short: get the whole file again',
  );
}

function u64(view: DataView, at: number): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  if (hi >= 0x200000) throw corrupt('64-bit size or offset too large');
  return hi * 0x1_0000_0000 + lo;
}

export function looksLikeZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    (bytes[2] === 3 || bytes[2] === 5) &&
    (bytes[3] === 4 || bytes[3] === 6)
  );
}

/**
 * Reads the central directory and checks every local header. Throws PTH_TRUNCATED when the end record is missing,
 * PTH_CORRUPT on bad structure, PTH_ZIP_DUPLICATE for a name listed twice, PTH_ZIP_OVERLAP for records sharing bytes.
 */
export function readZip(bytes: Uint8Array, limits: Limits = LIMITS): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  // The end of central directory record is 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let i = n - 22; i >= 0 && i >= n - 22 - 0xffff; i--) {
    if (view.getUint32(i, true) === SIG_EOCD && i + 22 + view.getUint16(i + 20, true) <= n) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw truncated('no zip end-of-central-directory record');
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  // the byte ranges of the directory and end records: no record may share a byte with them
  const ranges: { start: number; end: number; what: string; record?: boolean }[] = [
    { start: eocd, end: eocd + 22, what: 'the end record' },
  ];
  let directoryEnd = eocd;
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && view.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
    const at = u64(view, locator + 8);
    if (at + ZIP64_EOCD_SIZE > n || view.getUint32(at, true) !== SIG_ZIP64_EOCD) throw corrupt('bad zip64 end record');
    // Python's zipfile reads the zip64 record just before the locator, whatever the locator says: both must agree
    if (at !== locator - ZIP64_EOCD_SIZE) throw ambiguous('zip64 end record is not where its locator says');
    count = u64(view, at + 32);
    cdSize = u64(view, at + 40);
    cdOffset = u64(view, at + 48);
    ranges.push({ start: at, end: eocd, what: 'the zip64 end record' });
    directoryEnd = at;
  }
  if (count > limits.maxZipEntries)
    throw new PthError(
      'PTH_LIMIT',
      `zip archive lists ${count} entries, more than ${limits.maxZipEntries}`,
      'a .pth holds a few records: the file is hostile or not a model',
    );
  if (cdOffset + cdSize > n) throw truncated('central directory reaches past the end of the file');
  // A central directory that does not end where the end records start: Python's zipfile then shifts every offset by
  // the difference (it assumes data was prepended), while offsets here are taken as written. Refuse the ambiguity.
  if (cdOffset + cdSize !== directoryEnd)
    throw ambiguous(
      `central directory ends at byte ${cdOffset + cdSize}, not where the end record starts (${directoryEnd})`,
    );
  ranges.push({ start: cdOffset, end: directoryEnd, what: 'the central directory' });
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8');
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > n || view.getUint32(p, true) !== SIG_CENTRAL) throw corrupt(`central directory entry ${k}`);
    const method = view.getUint16(p + 10, true);
    const crc32 = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > directoryEnd) throw corrupt(`central directory entry ${k} runs past the directory`);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLen);
    const name = decoder.decode(nameBytes);
    // Python's zipfile cuts a name at its first NUL: "a/data.pkl\0x" would be a second a/data.pkl there
    if (nameBytes.includes(0)) throw ambiguous(`record name ${quote(name)} holds a NUL byte`);
    // zip64 extended information: present fields follow in this order, only for values saturated at 0xffffffff.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) throw corrupt(`extra field of ${quote(name)}`);
      if (id === 0x0001) {
        let q = e + 4;
        const need = (v: number) => v === 0xffffffff && q + 8 <= e + 4 + len;
        if (need(size)) {
          size = u64(view, q);
          q += 8;
        }
        if (need(compressedSize)) {
          compressedSize = u64(view, q);
          q += 8;
        }
        if (need(localHeaderOffset)) {
          localHeaderOffset = u64(view, q);
          q += 8;
        }
      }
      e += 4 + len;
    }
    // Python's zipfile keeps the last record of a name, this reader (and others) the first: refuse the file
    if (entries.has(name))
      throw new PthError('PTH_ZIP_DUPLICATE', `zip archive lists the record ${quote(name)} twice`, HINT_AMBIGUOUS);
    // the local header: where the data starts, and the same name as the directory says
    const at = localHeaderOffset;
    if (at + 30 > n) throw truncated(`local header of ${quote(name)}`);
    if (view.getUint32(at, true) !== SIG_LOCAL) throw corrupt(`local header of ${quote(name)}`);
    const localNameLen = view.getUint16(at + 26, true);
    const dataStart = at + 30 + localNameLen + view.getUint16(at + 28, true);
    if (dataStart + compressedSize > n) throw truncated(`record ${quote(name)} reaches past the end of the file`);
    if (localNameLen !== nameLen || !sameBytes(bytes.subarray(at + 30, at + 30 + localNameLen), nameBytes)) {
      throw ambiguous(`local header of ${quote(name)} names another record`);
    }
    entries.set(name, { name, method, crc32, compressedSize, size, localHeaderOffset, dataStart });
    ranges.push({ start: at, end: dataStart + compressedSize, what: name, record: true });
    p = end;
  }
  // Python's zipfile reads entries until the directory's bytes are used up, whatever the count says: both must agree
  if (p !== directoryEnd)
    throw ambiguous(`central directory holds ${directoryEnd - p} bytes past its ${count} entries`);
  // Records (local header + data) and the directory must not share a byte: overlapping records are the classic
  // way to make one stored byte count twice (zip bombs) or to show different contents to different readers.
  ranges.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const a = ranges[i - 1],
      b = ranges[i];
    if (b.start < a.end) {
      const show = (x: typeof a) => (x.record ? `record ${quote(x.what, 60)}` : x.what);
      throw new PthError(
        'PTH_ZIP_OVERLAP',
        `zip archive is crafted: ${show(a)} (bytes ${a.start}-${a.end - 1}) overlaps ${show(b)} (from byte ${b.start})`,
        HINT_AMBIGUOUS,
      );
    }
  }
  return { bytes, entries };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The bytes of an entry: a zero-copy view for stored entries, a bounded inflate for deflated ones. CRC is checked. */
export function readEntry(zip: ZipArchive, entry: ZipEntry, checkCrc = true): Uint8Array {
  // readZip checked the local header and that the data lies inside the file
  const raw = zip.bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  let out: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size)
      throw corrupt(`stored record ${quote(entry.name)} has two different sizes`);
    out = raw;
  } else if (entry.method === 8) {
    out = inflateBounded(raw, entry.size, entry.name);
  } else {
    throw new PthError(
      'PTH_UNSUPPORTED',
      `record ${quote(entry.name)} uses zip compression method ${entry.method}`,
      'only stored and deflated records are read: re-save the file with torch.save',
    );
  }
  if (checkCrc && crc32(out) !== entry.crc32) throw corrupt(`CRC mismatch in ${quote(entry.name)}`);
  return out;
}

/**
 * Inflates raw deflate data into exactly `size` bytes. The output buffer is allocated once at `size` + 1, so a stream
 * that would inflate further stops after one extra byte: the work and memory are bounded by the declared size.
 */
export function inflateBounded(raw: Uint8Array, size: number, name: string): Uint8Array {
  const strm = new ZStream();
  if (zlibInflateInit2(strm, -15) !== Z_OK) throw corrupt('inflate init');
  const out = new Uint8Array(size + 1);
  strm.input = raw;
  strm.next_in = 0;
  strm.avail_in = raw.length;
  strm.output = out;
  strm.next_out = 0;
  strm.avail_out = out.length;
  const status = zlibInflate(strm, Z_FINISH);
  const produced = strm.total_out;
  zlibInflateEnd(strm);
  if (produced > size) {
    throw new PthError(
      'PTH_CORRUPT',
      `record ${quote(name)} inflates past its declared ${size} bytes (a zip bomb?)`,
      'refusing to inflate it; only open .pth files from sources you trust',
    );
  }
  if (status !== Z_STREAM_END) {
    if (status === Z_BUF_ERROR || status === Z_OK) throw truncated(`deflate stream of ${quote(name)} ends early`);
    throw corrupt(`bad deflate data in ${quote(name)}`);
  }
  if (produced !== size) throw corrupt(`record ${quote(name)} inflates to ${produced} bytes, not ${size}`);
  return out.subarray(0, size);
}

// ---------------------------------------------------------------------------------------------------------------------
// CRC-32 (IEEE), slicing by 8: eight table lookups per 8 bytes, read as two little-endian words when aligned.

const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let s = 1; s < 8; s++) {
    for (let i = 0; i < 256; i++) t[s * 256 + i] = t[t[(s - 1) * 256 + i] & 0xff] ^ (t[(s - 1) * 256 + i] >>> 8);
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  const t = CRC_TABLES;
  let c = -1;
  let i = 0;
  const n = data.length;
  // bytes until the next 4-byte boundary, then whole words through an aligned Int32Array view (little-endian hosts)
  while (i < n && (data.byteOffset + i) % 4 !== 0) c = t[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  const words = (n - i) >> 3;
  if (words > 0) {
    const w = new Int32Array(data.buffer, data.byteOffset + i, words * 2);
    for (let k = 0; k < w.length; k += 2) {
      const a = w[k] ^ c,
        b = w[k + 1];
      c =
        t[1792 + (a & 0xff)] ^
        t[1536 + ((a >>> 8) & 0xff)] ^
        t[1280 + ((a >>> 16) & 0xff)] ^
        t[1024 + (a >>> 24)] ^
        t[768 + (b & 0xff)] ^
        t[512 + ((b >>> 8) & 0xff)] ^
        t[256 + ((b >>> 16) & 0xff)] ^
        t[b >>> 24];
    }
    i += words * 8;
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// Writer: stored entries, data aligned to `align` bytes with padding in the local extra field (as torch's writer does).

export function writeZip(files: { name: string; data: Uint8Array }[], align = 64): Uint8Array {
  // the end record counts entries in 16 bits (no zip64 here)
  if (files.length > 0xffff)
    throw new PthError(
      'PTH_LIMIT',
      `${files.length} records do not fit a zip without zip64`,
      'at most 65535 are written',
    );
  const encoder = new TextEncoder();
  const parts: { name: Uint8Array; data: Uint8Array; crc: number; offset: number; pad: number }[] = [];
  let offset = 0;
  for (const f of files) {
    const name = encoder.encode(f.name);
    const headerEnd = offset + 30 + name.length;
    // extra field: id 'FB' (as PyTorch uses), length = padding needed so the data starts on an aligned offset
    const pad = (align - ((headerEnd + 4) % align)) % align;
    const extra = 4 + pad;
    parts.push({ name, data: f.data, crc: crc32(f.data), offset, pad });
    offset = headerEnd + extra + f.data.length;
    if (f.data.length > 0xfffffffe || offset > 0xfffffffe)
      throw new PthError('PTH_LIMIT', 'model is larger than 4 GB', 'savePth writes zip archives without zip64');
  }
  const cdStart = offset;
  let cdSize = 0;
  for (const p of parts) cdSize += 46 + p.name.length;
  const out = new Uint8Array(cdStart + cdSize + 22);
  const v = new DataView(out.buffer);
  for (const p of parts) {
    let q = p.offset;
    v.setUint32(q, SIG_LOCAL, true);
    v.setUint16(q + 4, 20, true); // version needed
    v.setUint16(q + 6, 0x0800, true); // UTF-8 names
    v.setUint16(q + 8, 0, true); // stored
    v.setUint16(q + 10, 0, true); // time
    v.setUint16(q + 12, 0x21, true); // date 1980-01-01
    v.setUint32(q + 14, p.crc, true);
    v.setUint32(q + 18, p.data.length, true);
    v.setUint32(q + 22, p.data.length, true);
    v.setUint16(q + 26, p.name.length, true);
    v.setUint16(q + 28, 4 + p.pad, true);
    out.set(p.name, q + 30);
    q += 30 + p.name.length;
    v.setUint16(q, 0x4246, true); // "FB"
    v.setUint16(q + 2, p.pad, true);
    out.set(p.data, q + 4 + p.pad);
  }
  let q = cdStart;
  for (const p of parts) {
    v.setUint32(q, SIG_CENTRAL, true);
    v.setUint16(q + 4, 20, true);
    v.setUint16(q + 6, 20, true);
    v.setUint16(q + 8, 0x0800, true);
    v.setUint16(q + 10, 0, true);
    v.setUint16(q + 12, 0, true);
    v.setUint16(q + 14, 0x21, true);
    v.setUint32(q + 16, p.crc, true);
    v.setUint32(q + 20, p.data.length, true);
    v.setUint32(q + 24, p.data.length, true);
    v.setUint16(q + 28, p.name.length, true);
    // extra, comment, disk, internal attributes: 0
    v.setUint32(q + 42, p.offset, true);
    out.set(p.name, q + 46);
    q += 46 + p.name.length;
  }
  v.setUint32(q, SIG_EOCD, true);
  v.setUint16(q + 8, parts.length, true);
  v.setUint16(q + 10, parts.length, true);
  v.setUint32(q + 12, cdSize, true);
  v.setUint32(q + 16, cdStart, true);
  return out;
}
