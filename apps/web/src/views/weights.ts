// Weights view: every first-layer unit's weights as a 28x28 tile (click one, or reach it with the arrow keys and press
// Enter, to see it large, with the unit's bias and its outgoing weights), and every weight matrix and bias vector of
// the network as a heatmap.
import { escapeControl } from '@mnist/loader';
import { MNIST_SIDE } from '@mnist/loader/data';
import type { App } from '../app.js';
import { cellGrid } from '../cellgrid.js';
import { fill, h } from '../dom.js';
import { afterPaint, figure, pngFigure, pngFigureNow } from '../figure.js';
import type { LayerData } from '../protocol.js';

/** Tiles per row: 32 for 512 units, fewer for small layers (about sqrt(2 * units)). */
const columnsFor = (units: number) => Math.min(32, Math.max(1, Math.ceil(Math.sqrt(2 * units))));

export function mountWeights(root: HTMLElement, app: App): void {
  const tiles = h('div', { class: 'tiles' });
  const detail = h(
    'div',
    { class: 'unit-detail' },
    h('p', { class: 'muted' }, 'Click a tile to see that unit up close.'),
  );
  const maps = h('div', { class: 'maps' });
  root.append(
    h(
      'div',
      { class: 'weights-grid' },
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'First-layer units'),
        h(
          'p',
          { class: 'muted small' },
          "Each tile is one hidden unit's 784 input weights as a 28×28 image (red positive, blue negative). " +
            'Click one, or use the arrow keys and Enter.',
        ),
        tiles,
      ),
      h('div', { class: 'card' }, h('h2', {}, 'Unit'), detail),
    ),
    h('div', { class: 'card' }, h('h2', {}, 'Every weight matrix and bias'), maps),
  );

  let dirty = true,
    drawn = 0;
  const render = async () => {
    if (app.view !== 'weights') {
      dirty = true;
      return;
    }
    dirty = false;
    const model = app.model;
    if (!model) return;
    const mine = ++drawn;
    // Every model here takes MNIST_PIXELS inputs (the worker refuses others), so each unit's weights are a 28x28 tile.
    // The tiles' pixels are encoded in the PNG worker, then drawn here at once, for the grid laid over them.
    const first = model.layers[0]!;
    const svg = await pngFigureNow('weightTiles', first.weight, {
      out: first.out,
      in: first.in,
      columns: columnsFor(first.out),
      width: first.out > 64 ? 760 : Math.min(760, columnsFor(first.out) * 72 + 8),
      hitAreas: false, // the grid of cells below is laid over the tiles
    });
    if (mine !== drawn) return; // another model came meanwhile: its render draws
    const grid = cellGrid(svg, {
      count: first.out,
      columns: columnsFor(first.out),
      label: `First-layer units: ${first.out} weight tiles`,
      cellLabel: (k) => `unit ${k}`,
      onActivate: (k) => {
        grid.select(k);
        void afterPaint().then(() => showUnit(k, model.layers)); // the selection is painted first, then the unit
      },
    });
    grid.element.classList.add('clickable');
    fill(tiles, grid.element);
    grid.select(0);
    await afterPaint(); // the tiles and their grid are laid out and painted; then the unit and the matrices
    if (mine !== drawn) return;
    showUnit(0, model.layers);
    // Each matrix and bias in a task of its own (pngFigure), their pixels encoded in the PNG worker.
    fill(
      maps,
      ...model.layers.flatMap((l) => [
        h('h3', {}, `${escapeControl(l.name)}.weight `, h('span', { class: 'muted' }, `${l.out}×${l.in}`)),
        pngFigure('heatmap', l.weight, {
          rows: l.out,
          cols: l.in,
          width: 760,
          label: `${escapeControl(l.name)}.weight`,
          rowLabel: 'output unit',
          colLabel: 'input',
        }),
        h('h3', {}, `${escapeControl(l.name)}.bias `, h('span', { class: 'muted' }, `${l.out}`)),
        pngFigure('heatmap', l.bias, {
          rows: 1,
          cols: l.out,
          width: 760,
          label: `${escapeControl(l.name)}.bias`,
          colLabel: 'output unit',
        }),
      ]),
    );
  };

  function showUnit(j: number, layers: LayerData[]): void {
    const first = layers[0]!,
      next = layers[1];
    const row = first.weight.subarray(j * first.in, (j + 1) * first.in);
    const outgoing = next
      ? Float32Array.from({ length: next.out }, (_, c) => next.weight[c * next.in + j]!)
      : undefined;
    const toClasses = layers.length === 2;
    fill(
      detail,
      h('h3', {}, `Unit #${j}`),
      figure((viz) =>
        viz.heatmap(row, {
          rows: MNIST_SIDE,
          cols: MNIST_SIDE,
          width: 300,
          label: `W1[${j}]`,
          rowLabel: 'row',
          colLabel: 'column',
        }),
      ),
      h('p', { class: 'muted small' }, `bias b1[${j}] = ${first.bias[j]!.toFixed(4)}`),
      outgoing && outgoing.length <= 32
        ? figure((viz) =>
            viz.signedBars(outgoing, { label: `W2[·, ${j}]`, nameLabel: toClasses ? 'class' : 'unit of layer 2' }),
          )
        : null,
      next
        ? h(
            'p',
            { class: 'muted small' },
            toClasses
              ? 'How strongly this unit votes for each class when it is active.'
              : 'How strongly this unit feeds each unit of layer 2 when it is active.',
          )
        : null,
    );
  }

  app.onModel(() => void render());
  app.onView((v) => {
    if (v === 'weights' && dirty) void render();
  });
}
