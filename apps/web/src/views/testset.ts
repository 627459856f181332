// Test-set view: accuracy and the confusion matrix over all 10,000 MNIST test digits (evaluated in WASM in the
// worker; the data is fetched gzipped on first use), and a browsable grid of digits, optionally only the mistakes.
import { MNIST_PIXELS } from '@mnist/loader/data';
import type { App } from '../app.js';
import { cellGrid } from '../cellgrid.js';
import { fill, fmtInt, fmtMs, fmtPct, h } from '../dom.js';
import { formatError } from '../errors.js';
import { figure, pngFigureNow } from '../figure.js';
import type { EvalResult, TestSet } from '../protocol.js';

const PAGE = 48;

// ---- computation ---------------------------------------------------------------------------------------------

/** One page of the browsable grid: which dataset indices, and their pixels, labels and predictions. */
interface GridPage {
  page: number;
  pages: number;
  /** How many digits match the filter, over all pages. */
  total: number;
  indices: number[];
  images: Uint8Array;
  labels: Uint8Array;
  predictions: Uint8Array;
}

/** Page `wanted` (clamped) of all digits or of the mistakes only; none before the first evaluation. */
function gridPage(
  test: TestSet | undefined,
  result: EvalResult | undefined,
  mistakesOnly: boolean,
  wanted: number,
): GridPage {
  const all = test && result ? Array.from({ length: result.count }, (_, i) => i) : [];
  const shown = mistakesOnly ? all.filter((i) => result!.predictions[i] !== test!.labels[i]) : all;
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const page = Math.max(0, Math.min(wanted, pages - 1));
  const indices = shown.slice(page * PAGE, (page + 1) * PAGE);
  const images = new Uint8Array(indices.length * MNIST_PIXELS),
    labels = new Uint8Array(indices.length),
    predictions = new Uint8Array(indices.length);
  indices.forEach((i, k) => {
    images.set(test!.pixels.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS), k * MNIST_PIXELS);
    labels[k] = test!.labels[i]!;
    predictions[k] = result!.predictions[i]!;
  });
  return { page, pages, total: shown.length, indices, images, labels, predictions };
}

// ---- the view ------------------------------------------------------------------------------------------------

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
    h(
      'div',
      { class: 'test-grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Accuracy on the 10,000 MNIST test digits'), accuracy, details, matrix),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Browse the test digits'),
        h(
          'div',
          { class: 'row' },
          h('label', { for: 'mistakes-only' }, mistakesOnly, ' Only the mistakes'),
          prev,
          next,
          pageInfo,
        ),
        h(
          'p',
          { class: 'muted small' },
          'Click a digit, or use the arrow keys and Enter, to follow it through the network in Explain.',
        ),
        grid,
      ),
    ),
  );

  let test: TestSet | undefined,
    result: EvalResult | undefined,
    page = 0,
    wanted = false,
    running = false,
    stale = true;

  function showResult(test: TestSet, r: EvalResult, file: string): void {
    fill(accuracy, fmtPct(r.accuracy));
    accuracy.dataset.correct = String(r.correct);
    accuracy.dataset.count = String(r.count);
    accuracy.dataset.ms = r.ms.toFixed(1);
    fill(
      details,
      `${fmtInt(r.correct)} of ${fmtInt(r.count)} correct · mean loss ${r.loss.toFixed(4)} · evaluated in ${fmtMs(r.ms)} in WASM`,
      ` (${file})`,
    );
    fill(
      matrix,
      figure((viz) =>
        viz.confusionMatrix(test.labels.subarray(0, r.count), r.predictions, {
          width: 420,
          title: 'Confusion matrix',
          subtitle: 'rows: true digit · columns: prediction',
        }),
      ),
    );
  }

  async function evaluate(): Promise<void> {
    if (running || !app.model) return;
    running = true;
    stale = false;
    try {
      test ??= await app.testSet();
      const file = app.model.summary.file;
      result = await app.engine.call({ op: 'evaluate' });
      showResult(test, result, file);
      await showPage(); // the digits in a task of their own, after their PNG is encoded
    } catch (err) {
      fill(accuracy, '–');
      fill(details, h('span', { class: 'error' }, formatError(err)));
    } finally {
      running = false;
      if (stale) void evaluate(); // the model changed while we were busy
    }
  }

  let shownPage = 0;
  async function showPage(): Promise<void> {
    const mine = ++shownPage;
    const p = gridPage(test, result, mistakesOnly.checked, page);
    page = p.page;
    prev.disabled = p.page === 0;
    next.disabled = p.page >= p.pages - 1;
    fill(pageInfo, `page ${p.page + 1} of ${p.pages} · ${fmtInt(p.total)} digits`);
    if (!p.indices.length) {
      fill(grid, h('p', { class: 'muted' }, 'No digits to show.'));
      return;
    }
    const columns = gridColumns(grid.clientWidth);
    // The digits' pixels are encoded in the PNG worker, then drawn here at once, for the grid laid over them.
    const svg = await pngFigureNow('predictionGrid', p.images, p.labels, p.predictions, {
      indices: p.indices,
      columns,
      width: Math.min(640, columns * 53 + 8),
    });
    if (mine !== shownPage) return; // another page was asked for meanwhile
    // One grid cell per digit (keyboard and pointer): activating one explains that digit.
    const cells = cellGrid(svg, {
      count: p.indices.length,
      columns,
      label: `Test digits, page ${p.page + 1} of ${p.pages}`,
      cellLabel: (k) =>
        `#${p.indices[k]}: predicted ${p.predictions[k]}, true ${p.labels[k]}` +
        (p.predictions[k] === p.labels[k] ? '' : ', a mistake'),
      onActivate: (k) =>
        void app.traceTestDigit(p.indices[k]!).then(() => {
          location.hash = 'explain';
        }),
    });
    cells.element.classList.add('clickable');
    fill(grid, cells.element);
  }

  /** Digits per row: 12 where there is room (640 px), down to 6 on a phone. */
  function gridColumns(available: number): number {
    return available > 0 ? Math.max(6, Math.min(12, Math.floor((available - 8) / 53))) : 12;
  }

  function turn(delta: number): void {
    page += delta;
    void showPage();
  }
  mistakesOnly.addEventListener('change', () => {
    page = 0;
    void showPage();
  });

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
