// Explain view: the forward pass of the current input as the math says (x, z1 = W1 x + b1, a1 = ReLU(z1), ...,
// softmax), the most active first-layer units with their weight tiles, and how much each last-hidden-layer unit
// contributes to the winning class's score.
import * as Plot from '@observablehq/plot';
import { digitImage, heatmap, probabilityBars, weightTiles } from '@mnist/viz';
import type { App } from '../app.js';
import { fill, figure, h } from '../dom.js';
import type { LayerData, TraceResult } from '../protocol.js';

const TOP_UNITS = 12;

/** A near-square grid for a vector of n values (32 columns for 512), for its heatmap. */
function vectorShape(n: number): { rows: number; cols: number } {
  for (const cols of [32, 28, 25, 24, 20, 16, 10, 8]) if (n % cols === 0 && n / cols <= 64) return { rows: n / cols, cols };
  return { rows: 1, cols: n };
}

function vectorMap(values: Float32Array, label: string): Element {
  const { rows, cols } = vectorShape(values.length);
  return figure(() => heatmap(values, { rows, cols, width: 280, label, rowLabel: rows > 1 ? `unit ÷ ${cols}` : undefined, colLabel: rows > 1 ? `unit mod ${cols}` : 'unit' }));
}

function stage(title: string, formula: string, content: Element, note?: string): HTMLElement {
  return h('figure', { class: 'stage' }, h('figcaption', {}, h('strong', {}, title), ' ', h('code', {}, formula)), content, note ? h('p', { class: 'muted small' }, note) : null);
}

export function mountExplain(root: HTMLElement, app: App): void {
  const header = h('div', { class: 'explain-head' });
  const body = h('div', { class: 'explain-body' });
  const index = h('input', { type: 'number', min: 0, max: 9999, value: 0, class: 'short', 'aria-label': 'Test digit index' });
  const pick = h('div', { class: 'row' }, 'Or explain test digit #', index,
    h('button', { type: 'button', class: 'secondary', onclick: () => void app.traceTestDigit(Math.max(0, Math.min(9999, Number(index.value) | 0))) }, 'Explain'));
  root.append(h('div', { class: 'card' }, header, pick), body);

  let dirty = true;
  const render = () => {
    if (app.view !== 'explain') { dirty = true; return; }
    dirty = false;
    const t = app.trace, model = app.model;
    // The trace must come from this model (a new model's trace is on its way when they differ).
    const matches = t && model && t.z.length === model.layers.length && t.z.every((z, i) => z.length === model.layers[i]!.out);
    if (!t || !model || !matches) {
      fill(header, h('h2', {}, 'Explain'), h('p', { class: 'muted' }, 'Draw a digit in the Draw tab (or pick a test digit below) to follow it through the network.'));
      fill(body);
      return;
    }
    const label = app.traceLabel;
    const verdict = label === undefined ? '' : label === t.prediction ? ` The true label is ${label}: right.` : ` The true label is ${label}: wrong.`;
    fill(header, h('h2', {}, `Why ${t.prediction}?`), h('p', { class: 'muted' }, `Input: ${app.traceSource}. The network says ${t.prediction} with ${(100 * t.probabilities[t.prediction]!).toFixed(1)}% probability.${verdict}`));
    fill(body, forwardPass(t, model.layers, label), ...units(t, model.layers));
  };
  app.onTrace(render);
  // A new model re-runs the current input (the Draw view asks the worker), and that new trace redraws this view.
  app.onModel(() => { if (!app.trace) render(); });
  app.onView((v) => { if (v === 'explain' && dirty) render(); });
}

function forwardPass(t: TraceResult, layers: LayerData[], label?: number): HTMLElement {
  const stages: HTMLElement[] = [stage('Input', 'x', figure(() => digitImage(t.input, { width: 150 })), '28×28 = 784 pixels, 0 (paper) to 1 (ink)')];
  layers.forEach((_, i) => {
    const n = i + 1, last = i === layers.length - 1, prev = i === 0 ? 'x' : `a${n - 1}`;
    if (last) {
      stages.push(stage(`Logits`, `z${n} = W${n}·${prev} + b${n}`, logitBars(t.z[i]!, t.prediction), 'one score per class'));
    } else {
      const active = t.a[i]!.reduce((c, v) => c + (v > 0 ? 1 : 0), 0);
      stages.push(stage(`Layer ${n}`, `z${n} = W${n}·${prev} + b${n}`, vectorMap(t.z[i]!, `z${n}`), `${t.z[i]!.length} pre-activations`));
      stages.push(stage('ReLU', `a${n} = max(0, z${n})`, vectorMap(t.a[i]!, `a${n}`), `${active} of ${t.a[i]!.length} units active`));
    }
  });
  stages.push(stage('Softmax', 'p = softmax(z)', figure(() => probabilityBars(t.probabilities, { width: 280, height: 150, trueLabel: label })), 'probabilities sum to 1'));
  return h('section', { class: 'card' }, h('h3', {}, 'The forward pass'), h('div', { class: 'pipeline' }, ...stages));
}

function logitBars(z: Float32Array, best: number): Element {
  return figure(() => Plot.plot({
    width: 220, height: 150, marginLeft: 30, marginBottom: 30,
    x: { type: 'band', domain: Array.from(z, (_, i) => i), label: 'class', tickSize: 0 },
    y: { label: 'logit', grid: true },
    marks: [
      Plot.barY(Array.from(z, (v, i) => ({ i, v })), { x: 'i', y: 'v', fill: (d: { i: number }) => (d.i === best ? '#1f5fa8' : '#a9c4e4'), title: (d: { v: number }) => d.v.toFixed(3) }),
      Plot.ruleY([0]),
    ],
  }));
}

function topIndices(values: ArrayLike<number>, k: number, score: (v: number) => number = (v) => v): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort((a, b) => score(values[b]!) - score(values[a]!)).slice(0, k);
}

function units(t: TraceResult, layers: LayerData[]): HTMLElement[] {
  const c = t.prediction;
  const first = layers[0]!, last = layers[layers.length - 1]!;
  if (layers.length === 1) {
    // No hidden layer: the score is a weighted sum of pixels; show each pixel's share of it.
    const share = new Float32Array(first.in);
    for (let i = 0; i < first.in; i++) share[i] = t.input[i]! * first.weight[c * first.in + i]!;
    return [h('section', { class: 'card' }, h('h3', {}, `Pixel contributions to class ${c}`),
      figure(() => heatmap(share, { rows: 28, cols: 28, width: 320, label: `x·W[${c}]`, rowLabel: 'row', colLabel: 'column' })))];
  }
  const out: HTMLElement[] = [];
  // Most active units of the first hidden layer, with the input pattern each one responds to.
  const a1 = t.a[0]!;
  const top = topIndices(a1, TOP_UNITS).filter((j) => a1[j]! > 0);
  if (top.length) {
    const direct = layers.length === 2;
    out.push(h('section', { class: 'card' },
      h('h3', {}, `The ${top.length} most active units of layer 1`),
      h('p', { class: 'muted small' }, 'Each tile is a unit\'s 784 weights W1[j] as a 28×28 image: red pixels push its activation up, blue pull it down.'),
      h('div', { class: 'units' },
        figure(() => weightTiles(first.weight, { out: first.out, in: first.in, units: top, columns: 6, width: 440 })),
        h('table', { class: 'numbers' },
          h('thead', {}, h('tr', {}, h('th', {}, 'unit'), h('th', {}, 'a1'), direct ? h('th', {}, `W2[${c}, j]`) : null, direct ? h('th', {}, `contribution to ${c}`) : null)),
          h('tbody', {}, ...top.map((j) => h('tr', {},
            h('td', {}, `#${j}`), h('td', {}, a1[j]!.toFixed(3)),
            direct ? h('td', {}, last.weight[c * last.in + j]!.toFixed(3)) : null,
            direct ? h('td', { class: a1[j]! * last.weight[c * last.in + j]! >= 0 ? 'pos' : 'neg' }, (a1[j]! * last.weight[c * last.in + j]!).toFixed(3)) : null)))))));
  }
  // Contributions of the last hidden layer to the winning logit: z[c] = sum_j a[j] W[c, j] + b[c].
  const a = t.a[layers.length - 2]!;
  const contrib = Array.from(a, (v, j) => ({ j, v: v * last.weight[c * last.in + j]! }));
  const sum = contrib.reduce((s, d) => s + d.v, 0);
  const shown = [...topIndices(contrib.map((d) => d.v), 10), ...topIndices(contrib.map((d) => d.v), 5, (v) => -v)]
    .filter((j, k, all) => all.indexOf(j) === k && contrib[j]!.v !== 0)
    .map((j) => contrib[j]!)
    .sort((p, q) => q.v - p.v);
  const n = layers.length - 1;
  out.push(h('section', { class: 'card' },
    h('h3', {}, `What adds up to the score of ${c}`),
    h('p', { class: 'muted small' }, `z${n + 1}[${c}] = Σⱼ a${n}[j]·W${n + 1}[${c}, j] + b${n + 1}[${c}] = ${sum.toFixed(3)} + ${last.bias[c]!.toFixed(3)} = ${t.z[n]![c]!.toFixed(3)}. The units that add (red) or take away (blue) the most:`),
    figure(() => Plot.plot({
      width: 560, height: 24 * shown.length + 40, marginLeft: 60,
      x: { label: `contribution a${n}[j]·W${n + 1}[${c}, j]`, grid: true },
      y: { domain: shown.map((d) => `#${d.j}`), label: null },
      marks: [
        Plot.barX(shown, { y: (d: { j: number }) => `#${d.j}`, x: 'v', fill: (d: { v: number }) => (d.v >= 0 ? '#b2182b' : '#2166ac') }),
        Plot.ruleX([0]),
      ],
    }))));
  return out;
}
