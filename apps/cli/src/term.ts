// Terminal output: digits drawn with Unicode half blocks (ANSI grey levels on a TTY, plain blocks otherwise),
// side-by-side panels, aligned tables, number formatting, and a TTY-aware progress bar for training.
import { escapeControl } from '@mnist/loader';
import { MNIST_SIDE } from '@mnist/loader/data';

/** Colours only on a terminal that wants them (NO_COLOR, TERM=dumb and pipes get plain text; FORCE_COLOR forces). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

const ESC = '\x1b[';
const RESET = `${ESC}0m`;

/** ANSI 256-colour index of a grey level v in [0, 1] (0 = black paper, 1 = white ink, like MNIST). */
function grey(v: number): number {
  if (!(v > 0.02)) return 16;
  if (v >= 0.98) return 231;
  return 232 + Math.round(Math.min(1, v) * 23);
}

/**
 * A 28x28 image (values 0..1, row-major) as lines of half blocks: each character cell shows two pixel rows,
 * the upper one as the foreground of '▀' and the lower one as its background. Without colour, pixels above
 * half ink become '▀', '▄' or '█'. An empty 2-pixel border (MNIST has a 4-pixel one) is cropped, so three
 * digits fit in 80 columns.
 */
export function drawDigit(pixels: ArrayLike<number>, color: boolean, side = MNIST_SIDE): string[] {
  const m = emptyBorder(pixels, side, 2);
  const lines: string[] = [];
  for (let y = m; y < side - m; y += 2) {
    let line = '';
    let lastFg = -1,
      lastBg = -1;
    for (let x = m; x < side - m; x++) {
      const top = pixels[y * side + x] ?? 0;
      const bottom = y + 1 < side - m ? (pixels[(y + 1) * side + x] ?? 0) : 0;
      if (color) {
        const fg = grey(top),
          bg = grey(bottom);
        if (fg !== lastFg) line += `${ESC}38;5;${fg}m`;
        if (bg !== lastBg) line += `${ESC}48;5;${bg}m`;
        lastFg = fg;
        lastBg = bg;
        line += '▀';
      } else {
        const t = top >= 0.5,
          b = bottom >= 0.5;
        line += t && b ? '█' : t ? '▀' : b ? '▄' : ' ';
      }
    }
    lines.push(color ? line + RESET : line);
  }
  // Always 14 lines, so that captions under digits drawn side by side line up.
  const pad = (MNIST_SIDE / 2 - lines.length) / 2;
  const blank = ' '.repeat(side - 2 * m);
  return [...Array<string>(Math.floor(pad)).fill(blank), ...lines, ...Array<string>(Math.ceil(pad)).fill(blank)];
}

/** The widest margin (up to max) whose pixels are all (nearly) blank. */
function emptyBorder(pixels: ArrayLike<number>, side: number, max: number): number {
  for (let m = max; m > 0; m--) {
    let blank = true;
    for (let i = 0; i < side && blank; i++) {
      for (let k = 0; k < m && blank; k++) {
        const cells = [k * side + i, (side - 1 - k) * side + i, i * side + k, i * side + side - 1 - k];
        if (cells.some((c) => (pixels[c] ?? 0) > 0.02)) blank = false;
      }
    }
    if (blank) return m;
  }
  return 0;
}

/** Visible width of a string (ANSI escape sequences removed). */
export function visibleWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

export function padVisible(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleWidth(text)));
}

/** Panels (arrays of lines) next to each other, each padded to its widest line, separated by `gap` spaces. */
export function sideBySide(panels: string[][], gap = 3): string[] {
  const widths = panels.map((p) => Math.max(0, ...p.map(visibleWidth)));
  const height = Math.max(0, ...panels.map((p) => p.length));
  const out: string[] = [];
  for (let row = 0; row < height; row++) {
    out.push(
      panels
        .map((p, i) => padVisible(p[row] ?? '', widths[i]!))
        .join(' '.repeat(gap))
        .trimEnd(),
    );
  }
  return out;
}

/** Panels laid out in rows of at most `perRow`, with a blank line between rows. */
export function grid(panels: string[][], perRow: number, gap = 3): string[] {
  const out: string[] = [];
  for (let i = 0; i < panels.length; i += perRow) {
    if (i > 0) out.push('');
    out.push(...sideBySide(panels.slice(i, i + perRow), gap));
  }
  return out;
}

/** How many 24-column digit panels fit the terminal (80 columns when unknown). */
export function panelsPerRow(stream: NodeJS.WriteStream, panelWidth = MNIST_SIDE - 4, gap = 3): number {
  const columns = stream.isTTY && stream.columns ? stream.columns : 80;
  return Math.max(1, Math.floor((columns + gap) / (panelWidth + gap)));
}

/** The top k classes of a probability row, best first. */
export function topK(probabilities: ArrayLike<number>, k = 3): Array<{ cls: number; p: number }> {
  return Array.from({ length: probabilities.length }, (_, cls) => ({ cls, p: probabilities[cls]! }))
    .sort((a, b) => b.p - a.p)
    .slice(0, k);
}

/** " 7 ████████████ 100.0%": one line per top class, 22 columns wide. */
export function probabilityLines(probabilities: ArrayLike<number>, k = 3): string[] {
  return topK(probabilities, k).map(({ cls, p }) => {
    const bar = '█'.repeat(Math.round(p * 12)).padEnd(12, '·');
    return `${String(cls).padStart(2)} ${bar} ${percent(p, 1).padStart(6)}`;
  });
}

export function percent(fraction: number, digits = 2): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function seconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Rows of cells with the header, first column left-aligned and the others right-aligned. */
export function table(header: string[], rows: string[][], indent = '  '): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => visibleWidth(r[c] ?? ''))));
  return all.map(
    (r) =>
      indent +
      r
        .map((cell, c) => {
          const pad = ' '.repeat(Math.max(0, widths[c]! - visibleWidth(cell)));
          return c === 0 ? cell + pad : pad + cell;
        })
        .join('  ')
        .trimEnd(),
  );
}

// ---- text that came from a file (tensor names, checkpoint keys, globals, loader messages, paths) ----

/**
 * The one way the CLI shows a string it did not write itself: every control character becomes a visible escape
 * (\x1b, \r, \u009b, \u2028, \ud800) by @mnist/loader's escapeControl, the rule of the loader's own messages, so a
 * name can neither move the cursor, set the window title, clear the screen nor overwrite the line it is on. With
 * `max`, cut to that many characters (with …).
 */
export function safeText(text: unknown, max = Infinity): string {
  const escaped = escapeControl(String(text));
  return escaped.length > max ? clipEnd(escaped, max) : escaped;
}

/** JSON for stdout: JSON.stringify escapes C0 controls and lone surrogates; this also escapes DEL, C1, U+2028/2029 and bidi controls. */
export function safeJson(value: unknown): string {
  // These characters can only occur inside JSON strings, where \uXXXX means the same character.
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Where to cut escaped text at `at` so that no \xNN or \uNNNN escape is split. */
function cutPoint(text: string, at: number): number {
  const slash = text.lastIndexOf('\\', at - 1);
  if (slash >= 0 && slash > at - 6) {
    const m = /^\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt])/.exec(text.slice(slash, slash + 6));
    if (m && slash + m[0].length > at) return slash;
  }
  // Do not leave half a surrogate pair.
  return at > 0 && /[\ud800-\udbff]/.test(text[at - 1]!) ? at - 1 : at;
}

function clipEnd(text: string, max: number): string {
  return `${text.slice(0, cutPoint(text, Math.max(0, max - 1)))}…`;
}

/**
 * Cuts a line to at most `max` characters (UTF-16 units) by taking out its middle: the start says what failed
 * and where, the end says what to do and carries the [CODE].
 */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 3; // ' … ' in the middle
  let headEnd = cutPoint(text, Math.ceil((keep * 2) / 3));
  let tailStart = text.length - (keep - headEnd);
  // Move the tail's start forward past a split escape or the second half of a surrogate pair.
  while (
    tailStart < text.length &&
    (/[\udc00-\udfff]/.test(text[tailStart]!) || cutPoint(text, tailStart) !== tailStart)
  )
    tailStart++;
  // Cut between words when a space is near (moving inwards only shortens the line).
  const space = text.lastIndexOf(' ', headEnd);
  if (space > headEnd - 24 && space > 0) headEnd = space;
  const nextSpace = text.indexOf(' ', tailStart);
  if (nextSpace >= 0 && nextSpace < tailStart + 24) tailStart = nextSpace + 1;
  return `${text.slice(0, headEnd)} … ${text.slice(tailStart)}`;
}

export function bold(text: string, color: boolean): string {
  return color ? `${ESC}1m${text}${RESET}` : text;
}

export function red(text: string, color: boolean): string {
  return color ? `${ESC}31m${text}${RESET}` : text;
}

export function green(text: string, color: boolean): string {
  return color ? `${ESC}32m${text}${RESET}` : text;
}

/**
 * Progress of a long loop on stderr. On a TTY one line is redrawn at most 10 times a second; otherwise a
 * plain line is printed at every `plainEvery` fraction (20%) so logs stay short.
 */
export class Progress {
  private readonly tty: boolean;
  private lastDraw = 0;
  private lastFraction = 0;
  private readonly started = performance.now();
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
    private readonly label: string,
    private readonly plainEvery = 0.2,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /**
   * `done` units finished; `extra` is shown after the ETA (loss, speed). `left`: seconds left in the whole job when
   * this bar is one part of it (an epoch of a run), the ETA shown instead of this bar's own.
   */
  update(done: number, extra: string, left?: number): void {
    const now = performance.now();
    const fraction = this.total > 0 ? done / this.total : 1;
    const elapsed = (now - this.started) / 1000;
    const eta = `ETA ${seconds(left ?? (fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Infinity))}`;
    if (this.tty) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      // the ETA before the details, so a narrow terminal cuts those
      const line = `${this.label} ${bar} ${done}/${this.total}  ${eta}  ${extra}`;
      const columns = this.stream.columns || 100;
      this.stream.write(`\r${ESC}2K${line.slice(0, columns - 1)}`);
      this.drawn = true;
    } else if (fraction - this.lastFraction >= this.plainEvery - 1e-9 && done < this.total) {
      this.lastFraction = Math.floor(fraction / this.plainEvery) * this.plainEvery;
      this.stream.write(`${this.label} ${done}/${this.total}  ${eta}  ${extra}\n`);
    }
  }

  /** Clears the bar so the next line starts clean. */
  clear(): void {
    if (this.tty && this.drawn) this.stream.write(`\r${ESC}2K`);
    this.drawn = false;
  }
}
