// Draws @mnist/viz figures in the views without long main-thread tasks (issue 15):
// - viz (with Observable Plot, d3 and pako, most of the page's code) is a chunk of its own, loaded once the first
//   model is in (main.ts opens the gate), so the first screen and the first prediction never wait for it;
// - figures are drawn a few per task: figure() draws now while the current task has spent less than BUDGET_MS on
//   figures, and otherwise returns a placeholder that the next frame's task replaces, so an update that draws many (a
//   view shown, a new model) is cut into tasks (and frames to lay out) of about that size; the first, cold figures of
//   the page one per task;
// - the big figures (all weight tiles, a 512x784 heatmap, a page of digits) have their pixels filled and deflated in
//   the PNG worker (png-worker.ts) and are drawn here from that PNG (pngFigure).
import type * as Viz from '@mnist/viz';
import { formatError } from './errors.js';
import { h } from './dom.js';
import type { Encoded, PngFigure, PngReply, PngRequest } from './png-worker.js';

export type VizModule = typeof Viz;

/** Figure time per task before the next figures wait for a later task (the long-task bound is 50 ms). */
const BUDGET_MS = 20;

let viz: VizModule | undefined;
let loading: Promise<VizModule> | undefined;
let opened: () => void;
/** Figures wait for this before loading viz (main.ts opens it once the first model is in). */
const gate = new Promise<void>((resolve) => (opened = resolve));

/**
 * Lets the queued figures load viz and draw: until then they wait, so that loading viz (fetching and compiling
 * ~340 kB and evaluating it) does not compete for the CPU with the worker loading the first model.
 */
export function openFigures(): void {
  opened();
}

/** @mnist/viz, loaded once (a failed load, e.g. offline before it was cached, is tried again next time). */
export function loadViz(): Promise<VizModule> {
  loading ??= import('@mnist/viz').then(
    async (module) => {
      await nextTask(); // the first figures in a task of their own, after the module's evaluation
      viz = module;
      return module;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/** Resolves in a new task, after input and rendering (scheduler.yield where there is one). */
export function nextTask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (scheduler?.yield) return scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Resolves once the next frame has been rendered (its requestAnimationFrame, then a new task). */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/**
 * The page's first figures are cold (V8 runs Plot's and pako's code for the first time, and viz builds its palettes):
 * each of these is drawn in a task of its own, whatever the budget.
 */
const COLD_FIGURES = 6;
let drawnFigures = 0;

// The current task's figure time: `taskStart` is reset by a zero-delay timer, so it runs out at the latest when
// other tasks have run in between (never too late: a figure waits for the next task at worst).
let taskStart = -1;
let drawnInTask = 0;
function withinBudget(): boolean {
  const now = performance.now();
  if (taskStart < 0) {
    taskStart = now;
    drawnInTask = 0;
    setTimeout(() => (taskStart = -1), 0);
  }
  if (drawnFigures < COLD_FIGURES && drawnInTask > 0) return false;
  return now - taskStart < BUDGET_MS;
}

type Build = (viz: VizModule) => Element;
const queue: { placeholder: Element; build: Build }[] = [];
let draining = false;

function draw(v: VizModule, build: Build): Element {
  drawnFigures++;
  drawnInTask++;
  try {
    return build(v);
  } catch (err) {
    console.warn(err);
    return h('p', { class: 'note warn' }, 'Could not draw this figure: ', formatError(err));
  }
}

/** Draws the queued figures, each frame until the budget is spent; placeholders no longer on the page are skipped. */
async function drain(): Promise<void> {
  draining = true;
  try {
    await gate;
    const v = await loadViz();
    while (queue.length) {
      // one budget of figures per frame: each frame also lays out and paints no more than those
      await afterPaint();
      taskStart = -1;
      while (queue.length && withinBudget()) {
        const { placeholder, build } = queue.shift()!;
        if (placeholder.isConnected) placeholder.replaceWith(draw(v, build));
      }
    }
  } catch (err) {
    for (const { placeholder } of queue.splice(0))
      placeholder.replaceWith(h('p', { class: 'note warn' }, 'Could not load the figures: ', formatError(err)));
  } finally {
    draining = false;
  }
}

/**
 * A @mnist/viz figure: drawn now when viz is loaded and this task has time left (or, with `budget: false`, whatever
 * time this task has taken), otherwise a placeholder of the same place in the page that a later task replaces with the
 * figure (in turn after the figures queued before it). When the figure function throws, a note says why.
 */
export function figure(build: Build, { budget = true } = {}): Element {
  if (viz && !queue.length && (withinBudget() || !budget)) return draw(viz, build);
  const placeholder = h('div', { class: 'figure-pending', 'aria-busy': 'true' });
  queue.push({ placeholder, build });
  if (!draining) void drain();
  return placeholder;
}

/** A figure drawn now, whatever the budget (for a grid laid over it, cellgrid.ts); viz must be loaded. */
export function figureNow(build: Build): Element {
  if (!viz) throw new Error('figureNow: @mnist/viz is not loaded yet (await loadViz() first)');
  withinBudget(); // its time counts: the figures after it in this task wait if it took the budget
  return draw(viz, build);
}

// ---- the big figures: their PNG encoded in a worker (png-worker.ts) -------------------------------------------------

type Args<K extends PngFigure> = Parameters<VizModule[K]>;
let pngWorker: Worker | undefined;
let nextId = 1;
const encoding = new Map<number, (encoded: Encoded) => void>();

/**
 * Figure `kind`'s image filled and deflated in the PNG worker: its PNG data URL and colour limit; none when there is
 * no image (a small heatmap) or the worker failed, and the figure then works them out itself.
 */
function encodePng<K extends PngFigure>(kind: K, args: Args<K>): Promise<Encoded> {
  if (!pngWorker) {
    pngWorker = new Worker('png-worker.js', { type: 'module' });
    pngWorker.onmessage = ({ data }: MessageEvent<PngReply>) => {
      if ('error' in data) console.warn(`png worker: ${data.error.code}: ${data.error.message}`);
      encoding.get(data.id)?.('error' in data ? {} : data);
      encoding.delete(data.id);
    };
    pngWorker.onerror = (event) => {
      console.warn(`png worker failed: ${event.message}`);
      for (const done of encoding.values()) done({});
      encoding.clear();
      pngWorker = undefined;
    };
  }
  const id = nextId++;
  return new Promise((resolve) => {
    encoding.set(id, resolve);
    pngWorker!.postMessage({ id, kind, args } satisfies PngRequest);
  });
}

/** `viz[kind](...args)` with the image the worker encoded, when it did. */
function withPng<K extends PngFigure>(kind: K, args: Args<K>, { png, maxAbs }: Encoded): Build {
  const f = (v: VizModule) => v[kind] as (...a: unknown[]) => Element;
  if (png === undefined) return (v) => f(v)(...args);
  const options = { ...args.at(-1)!, png, ...(maxAbs !== undefined && { maxAbs }) };
  return (v) => f(v)(...args.slice(0, -1), options);
}

/**
 * A big figure (weightTiles, heatmap, predictionGrid) as figure() draws one, its pixels filled and encoded in the PNG
 * worker first: a placeholder now, the figure in a later task. The last argument is the figure's options.
 */
export function pngFigure<K extends PngFigure>(kind: K, ...args: Args<K>): Element {
  const placeholder = h('div', { class: 'figure-pending', 'aria-busy': 'true' });
  void encodePng(kind, args).then((encoded) => {
    queue.push({ placeholder, build: withPng(kind, args, encoded) });
    if (!draining) void drain();
  });
  return placeholder;
}

/** The same, drawn as soon as the PNG is in, for a grid laid over it (cellgrid.ts); viz must be loaded. */
export async function pngFigureNow<K extends PngFigure>(kind: K, ...args: Args<K>): Promise<Element> {
  return figureNow(withPng(kind, args, await encodePng(kind, args)));
}
