// Safe display of text that comes from a file: control characters escaped, long values cut to a short prefix. Every
// value a PthError message quotes goes through `quote`; the CLI and the web app use `escapeControl` / `quote` for the
// tensor names they show (PthTensor.name itself stays the raw string from the file).
import { LIMITS } from './limits.js';

// C0 and C1 controls, DEL, the Unicode line/paragraph separators, the bidirectional controls ("Trojan Source"
// reordering) and lone surrogates: anything that can move a terminal's cursor, start an escape sequence, break a
// "one-line" message or reorder what a reader sees.
const CONTROL =
  /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character written as an escape: `\n`, `\r`, `\t`, `\xNN` (ESC is `\x1b`), `\uNNNN` for
 * separators, bidi controls and lone surrogates. Backslashes are left alone, so escaping twice changes nothing: the
 * result is for display, not for parsing back.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

function isControl(c: string): boolean {
  CONTROL.lastIndex = 0;
  const hit = CONTROL.test(c);
  CONTROL.lastIndex = 0;
  return hit;
}

/**
 * A value from the file as it may appear in a message: control characters escaped (see `escapeControl`) and, past
 * `max` displayed characters, cut and followed by `…(N chars)` (strings) or `…(N bytes)` (bytes). No quote marks are
 * added. Work is proportional to `max`, not to the value: a 48 MB name costs the same as a short one.
 */
export function quote(value: unknown, max: number = LIMITS.maxQuotedChars): string {
  if (value instanceof Uint8Array) {
    let out = '';
    let i = 0;
    for (; i < value.length; i++) {
      const b = value[i];
      const piece = b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : escapeOne(String.fromCharCode(b)); // \xNN
      if (out.length + piece.length > max) break;
      out += piece;
    }
    return i < value.length ? `${out}…(${value.length} bytes)` : out;
  }
  const text = typeof value === 'string' ? value : String(value);
  let out = '';
  let i = 0;
  while (i < text.length) {
    // a surrogate pair is one character: never cut between its halves
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const ch = text.slice(i, i + (pair ? 2 : 1));
    const piece = !pair && isControl(ch) ? escapeOne(ch) : ch;
    if (out.length + piece.length > max) break;
    out += piece;
    i += ch.length;
  }
  return i < text.length ? `${out}…(${text.length} chars)` : out;
}

// A run of more than this many non-blank characters in a message is a value nobody quoted: cut it like `quote` does.
// (quote's own output, `max` characters plus `…(N chars)` and a bracket or colon, stays below it.)
const LONG_RUN = LIMITS.maxQuotedChars + 40;
const LONG_RUN_RE = new RegExp(`[^\\s]{${LONG_RUN + 1},}`, 'g');

function cutTo(text: string, length: number): string {
  if (text.length <= length) return text;
  let end = Math.max(0, length - 1);
  if (end > 0 && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--; // keep surrogate pairs whole
  return `${text.slice(0, end)}…`;
}

/**
 * The problem and hint of a PthError made safe for one line: control characters escaped, any unquoted long run cut,
 * and the whole `problem: hint` at most `LIMITS.maxMessageLength` characters (the problem is cut first: the hint is
 * the part a person acts on).
 */
export function oneLineMessage(problem: string, hint: string): { problem: string; hint: string } {
  const max = LIMITS.maxMessageLength;
  // long runs are cut before escaping (so the length shown is the value's own) and again after it (escaping can join
  // runs that a newline or tab separated)
  const shorten = (s: string) => s.replace(LONG_RUN_RE, (run) => quote(run));
  const clean = (s: string) => shorten(escapeControl(shorten(s)));
  let p = clean(problem),
    h = clean(hint);
  if (h.length > max / 2 && p.length + 2 + h.length > max) h = cutTo(h, Math.max(max / 2, max - 2 - p.length));
  if (h === '') return { problem: cutTo(p, max), hint: '' };
  p = cutTo(p, max - 2 - h.length);
  return { problem: p, hint: h };
}
