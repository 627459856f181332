// Test-set view: accuracy and the confusion matrix over all 10,000 MNIST test digits (evaluated in WASM in the
// worker; the data is fetched gzipped on first use), and a browsable grid of digits, optionally only the mistakes.
import { confusionMatrix, predictionGrid } from '@mnist/viz';
import type { App } from '../app.js';
import { fill, figure, fmtInt, fmtMs, fmtPct, h } from '../dom.js';
import type { EvalResult, TestSet } from '../protocol.js';

const PAGE = 48;

export function mountTestSet(root: HTMLElement, app: App): void {
  const accuracy = h('div', { class: 'big-number', 'data-testid': 'test-accuracy' }, '…');
  const details = h('p', { class: 'muted' }, 'Loading the MNIST test set…');
  const matrix = h('div', { class: 'matrix' });
  const grid = h('div', { class: 'grid' });
  const mistakesOnly = h('input', { type: 'checkbox', id: 'mistakes-only' });
  const pageInfo = h('span', { class: 'muted' });
  const prev = h('button', { type: 'button', class: 'secondary', onclick: () => turn(-1) }, '← Previous');
  const next = h('button', { type: 'button', class: 'secondary', onclick: () => turn(1) }, 'Next →');
  root.append(
    h('div', { class: 'test-grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Accuracy on the 10,000 MNIST test digits'), accuracy, details, matrix),
      h('div', { class: 'card' },
        h('h2', {}, 'Browse the test digits'),
        h('div', { class: 'row' }, h('label', { for: 'mistakes-only' }, mistakesOnly, ' Only the mistakes'), prev, next, pageInfo),
        h('p', { class: 'muted small' }, 'Click a digit to follow it through the network in Explain.'),
        grid)));

  let test: TestSet | undefined, result: EvalResult | undefined, page = 0, wanted = false, running = false, stale = true;

  async function evaluate(): Promise<void> {
    if (running || !app.model) return;
    running = true;
    stale = false;
    try {
      test ??= await app.testSet();
      const r = await app.engine.call({ op: 'evaluate' });
      result = r;
      fill(accuracy, fmtPct(r.accuracy));
      accuracy.dataset.correct = String(r.correct);
      accuracy.dataset.count = String(r.count);
      accuracy.dataset.ms = r.ms.toFixed(1);
      fill(details, `${fmtInt(r.correct)} of ${fmtInt(r.count)} correct · mean loss ${r.loss.toFixed(4)} · evaluated in ${fmtMs(r.ms)} in WASM`,
        ` (${app.model.summary.file})`);
      fill(matrix, figure(() => confusionMatrix(test!.labels.subarray(0, r.count), r.predictions, { width: 420, title: 'Confusion matrix', subtitle: 'rows: true digit · columns: prediction' })));
      showPage();
    } catch (err) {
      fill(accuracy, '–');
      fill(details, h('span', { class: 'error' }, (err as Error).message));
    } finally {
      running = false;
      if (stale) void evaluate(); // the model changed while we were busy
    }
  }

  /** Dataset indices shown in the grid: all digits, or the mistakes only. */
  function shownIndices(): number[] {
    if (!result || !test) return [];
    const all = Array.from({ length: result.count }, (_, i) => i);
    return mistakesOnly.checked ? all.filter((i) => result!.predictions[i] !== test!.labels[i]) : all;
  }

  function showPage(): void {
    const indices = shownIndices();
    const pages = Math.max(1, Math.ceil(indices.length / PAGE));
    page = Math.max(0, Math.min(page, pages - 1));
    const slice = indices.slice(page * PAGE, (page + 1) * PAGE);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    fill(pageInfo, `page ${page + 1} of ${pages} · ${fmtInt(indices.length)} digits`);
    if (!slice.length || !test || !result) return fill(grid, h('p', { class: 'muted' }, 'No digits to show.'));
    const images = new Uint8Array(slice.length * 784), labels = new Uint8Array(slice.length), predictions = new Uint8Array(slice.length);
    slice.forEach((i, k) => {
      images.set(test!.pixels.subarray(i * 784, (i + 1) * 784), k * 784);
      labels[k] = test!.labels[i]!;
      predictions[k] = result!.predictions[i]!;
    });
    const svg = figure(() => predictionGrid(images, labels, predictions, { indices: slice, columns: 12, width: 640 }));
    // The grid's hit areas carry "#index: ..." titles: a click on one explains that digit.
    svg.addEventListener('click', (e) => {
      const title = (e.target as Element).closest('rect, g')?.querySelector('title')?.textContent ?? (e.target as Element).querySelector?.('title')?.textContent;
      const m = title && /^#(\d+):/.exec(title);
      if (m) void app.traceTestDigit(Number(m[1])).then(() => { location.hash = 'explain'; });
    });
    fill(grid, svg);
  }

  function turn(delta: number): void {
    page += delta;
    showPage();
  }
  mistakesOnly.addEventListener('change', () => { page = 0; showPage(); });

  app.onView((v) => {
    if (v !== 'test') return;
    wanted = true;
    if (stale) void evaluate();
  });
  app.onModel(() => {
    stale = true;
    if (wanted && app.view === 'test') void evaluate();
  });
}
