// Explain view: where the network looks (a saliency overlay of the predicted or a chosen class, views/gradients.ts),
// the forward pass of the current input as the math says (x, z1 = W1 x + b1, a1 = act(z1), ..., softmax), the most
// active first-layer units with their weight tiles, and how much each last-hidden-layer unit contributes to the
// winning class's score. The numbers are computed first (plain reports), then drawn.
import type { ActivationSpec } from '@mnist/core-wasm';
import { MNIST_SIDE } from '@mnist/loader/data';
import type { App } from '../app.js';
import { fill, h } from '../dom.js';
import { figure } from '../figure.js';
import type { LayerData, TraceResult } from '../protocol.js';
import { saliencyPanel } from './gradients.js';

const TOP_UNITS = 12;

// ---- computation ---------------------------------------------------------------------------------------------

/** A near-square grid for a vector of n values (32 columns for 512), for its heatmap. */
function vectorShape(n: number): { rows: number; cols: number } {
  for (const cols of [32, 28, 25, 24, 20, 16, 10, 8])
    if (n % cols === 0 && n / cols <= 64) return { rows: n / cols, cols };
  return { rows: 1, cols: n };
}

function topIndices(values: ArrayLike<number>, k: number, score: (v: number) => number = (v) => v): number[] {
  return Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => score(values[b]!) - score(values[a]!))
    .slice(0, k);
}

/** Each pixel's share x[i]·W[c, i] of class c's score, for a network with no hidden layer. */
function pixelShares(t: TraceResult, layer: LayerData): Float32Array {
  const c = t.prediction,
    share = new Float32Array(layer.in);
  for (let i = 0; i < layer.in; i++) share[i] = t.input[i]! * layer.weight[c * layer.in + i]!;
  return share;
}

interface ActiveUnit {
  unit: number;
  activation: number;
  /** With one hidden layer: the unit's weight to the predicted class, and activation × weight. */
  weight?: number;
  contribution?: number;
}

/** The most active units of the first hidden layer (activation > 0), most active first. */
function activeUnits(t: TraceResult, layers: LayerData[]): ActiveUnit[] {
  const a1 = t.a[0]!,
    c = t.prediction,
    last = layers[layers.length - 1]!,
    direct = layers.length === 2;
  return topIndices(a1, TOP_UNITS)
    .filter((j) => a1[j]! > 0)
    .map((unit) => {
      const weight = direct ? last.weight[c * last.in + unit]! : undefined;
      return {
        unit,
        activation: a1[unit]!,
        weight,
        contribution: weight === undefined ? undefined : a1[unit]! * weight,
      };
    });
}

interface ScoreBreakdown {
  /** The last hidden layer is a{layer}; the score is z{layer + 1}[cls]. */
  layer: number;
  cls: number;
  /** Σⱼ a[j]·W[c, j], the bias b[c] and the score itself. */
  sum: number;
  bias: number;
  score: number;
  /** The units that add (largest 10) or take away (largest 5) the most, largest contribution first. */
  shown: { unit: number; value: number }[];
}

/** The last hidden layer's contributions to the winning logit: z[c] = Σⱼ a[j]·W[c, j] + b[c]. */
function scoreBreakdown(t: TraceResult, layers: LayerData[]): ScoreBreakdown {
  const c = t.prediction,
    last = layers[layers.length - 1]!,
    n = layers.length - 1;
  const values = Array.from(t.a[n - 1]!, (v, j) => v * last.weight[c * last.in + j]!);
  const shown = [...topIndices(values, 10), ...topIndices(values, 5, (v) => -v)]
    .filter((j, k, all) => all.indexOf(j) === k && values[j] !== 0)
    .map((unit) => ({ unit, value: values[unit]! }))
    .sort((p, q) => q.value - p.value);
  return { layer: n, cls: c, sum: values.reduce((s, v) => s + v, 0), bias: last.bias[c]!, score: t.z[n]![c]!, shown };
}

// ---- rendering -----------------------------------------------------------------------------------------------

function vectorMap(values: Float32Array, label: string): Element {
  const { rows, cols } = vectorShape(values.length);
  return figure((viz) =>
    viz.heatmap(values, {
      rows,
      cols,
      width: 280,
      label,
      rowLabel: rows > 1 ? `unit ÷ ${cols}` : undefined,
      colLabel: rows > 1 ? `unit mod ${cols}` : 'unit',
    }),
  );
}

function stage(title: string, formula: string, content: Element, note?: string): HTMLElement {
  return h(
    'figure',
    { class: 'stage' },
    h('figcaption', {}, h('strong', {}, title), ' ', h('code', {}, formula)),
    content,
    note ? h('p', { class: 'muted small' }, note) : null,
  );
}

/** The title and formula of hidden layer n's activation as the math writes it (the one the engine runs). */
function activationStage(a: ActivationSpec, n: number): { title: string; formula: string } {
  const z = `z${n}`;
  const formulas: Record<ActivationSpec['name'], [string, string]> = {
    relu: ['ReLU', `max(0, ${z})`],
    leaky_relu: ['LeakyReLU', `${z} if ${z} > 0, else ${'slope' in a ? a.slope : 0.01}·${z}`],
    sigmoid: ['Sigmoid', `1 / (1 + e^−${z})`],
    tanh: ['Tanh', `tanh(${z})`],
    gelu: ['GELU', `${z}·Φ(${z})`],
    gelu_tanh: ['GELU (tanh)', `${z}·Φ(${z}), tanh approximation`],
    silu: ['SiLU', `${z}·sigmoid(${z})`],
    elu: ['ELU', `${z} if ${z} > 0, else ${'alpha' in a ? a.alpha : 1}·(e^${z} − 1)`],
    identity: ['Identity', z],
  };
  const [title, rhs] = formulas[a.name];
  return { title, formula: `a${n} = ${rhs}` };
}

function forwardPass(
  t: TraceResult,
  layers: LayerData[],
  activations: readonly ActivationSpec[],
  label?: number,
): HTMLElement {
  const stages: HTMLElement[] = [
    stage(
      'Input',
      'x',
      figure((viz) => viz.digitImage(t.input, { width: 150 })),
      '28×28 = 784 pixels, 0 (paper) to 1 (ink)',
    ),
  ];
  layers.forEach((_, i) => {
    const n = i + 1,
      last = i === layers.length - 1,
      prev = i === 0 ? 'x' : `a${n - 1}`;
    if (last) {
      stages.push(
        stage(
          'Logits',
          `z${n} = W${n}·${prev} + b${n}`,
          figure((viz) => viz.logitBars(t.z[i]!)),
          'one score per class',
        ),
      );
    } else {
      const active = t.a[i]!.reduce((c, v) => c + (v > 0 ? 1 : 0), 0);
      stages.push(
        stage(
          `Layer ${n}`,
          `z${n} = W${n}·${prev} + b${n}`,
          vectorMap(t.z[i]!, `z${n}`),
          `${t.z[i]!.length} pre-activations`,
        ),
      );
      const { title, formula } = activationStage(activations[i] ?? { name: 'relu' }, n);
      stages.push(stage(title, formula, vectorMap(t.a[i]!, `a${n}`), `${active} of ${t.a[i]!.length} units above 0`));
    }
  });
  stages.push(
    stage(
      'Softmax',
      'p = softmax(z)',
      figure((viz) => viz.probabilityBars(t.probabilities, { width: 280, height: 150, trueLabel: label })),
      'probabilities sum to 1',
    ),
  );
  return h('section', { class: 'card' }, h('h3', {}, 'The forward pass'), h('div', { class: 'pipeline' }, ...stages));
}

function pixelSharesCard(c: number, share: Float32Array): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('h3', {}, `Pixel contributions to class ${c}`),
    figure((viz) =>
      viz.heatmap(share, {
        rows: MNIST_SIDE,
        cols: MNIST_SIDE,
        width: 320,
        label: `x·W[${c}]`,
        rowLabel: 'row',
        colLabel: 'column',
      }),
    ),
  );
}

function activeUnitsCard(c: number, rows: ActiveUnit[], first: LayerData): HTMLElement {
  const direct = rows[0]?.weight !== undefined;
  return h(
    'section',
    { class: 'card' },
    h('h3', {}, `The ${rows.length} most active units of layer 1`),
    h(
      'p',
      { class: 'muted small' },
      "Each tile is a unit's 784 weights W1[j] as a 28×28 image: red pixels push its activation up, blue pull it down.",
    ),
    h(
      'div',
      { class: 'units' },
      figure((viz) =>
        viz.weightTiles(first.weight, {
          out: first.out,
          in: first.in,
          units: rows.map((r) => r.unit),
          columns: 6,
          width: 440,
        }),
      ),
      h(
        'table',
        { class: 'numbers' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'unit'),
            h('th', {}, 'a1'),
            direct ? h('th', {}, `W2[${c}, j]`) : null,
            direct ? h('th', {}, `contribution to ${c}`) : null,
          ),
        ),
        h(
          'tbody',
          {},
          ...rows.map((r) =>
            h(
              'tr',
              {},
              h('td', {}, `#${r.unit}`),
              h('td', {}, r.activation.toFixed(3)),
              r.weight === undefined ? null : h('td', {}, r.weight.toFixed(3)),
              r.contribution === undefined
                ? null
                : h('td', { class: r.contribution >= 0 ? 'pos' : 'neg' }, r.contribution.toFixed(3)),
            ),
          ),
        ),
      ),
    ),
  );
}

function scoreCard(s: ScoreBreakdown): HTMLElement {
  const { layer: n, cls: c } = s;
  return h(
    'section',
    { class: 'card' },
    h('h3', {}, `What adds up to the score of ${c}`),
    h(
      'p',
      { class: 'muted small' },
      `z${n + 1}[${c}] = Σⱼ a${n}[j]·W${n + 1}[${c}, j] + b${n + 1}[${c}] = ${s.sum.toFixed(3)} + ${s.bias.toFixed(3)} = ${s.score.toFixed(3)}. The units that add (red) or take away (blue) the most:`,
    ),
    s.shown.length
      ? figure((viz) =>
          viz.signedBars(
            s.shown.map((d) => d.value),
            {
              horizontal: true,
              names: s.shown.map((d) => `#${d.unit}`),
              label: `contribution a${n}[j]·W${n + 1}[${c}, j]`,
            },
          ),
        )
      : h('p', { class: 'muted' }, `No unit of a${n} contributes: all are 0.`),
  );
}

function unitCards(t: TraceResult, layers: LayerData[]): HTMLElement[] {
  // No hidden layer: the score is a weighted sum of pixels; show each pixel's share of it.
  if (layers.length === 1) return [pixelSharesCard(t.prediction, pixelShares(t, layers[0]!))];
  const active = activeUnits(t, layers);
  return [
    ...(active.length ? [activeUnitsCard(t.prediction, active, layers[0]!)] : []),
    scoreCard(scoreBreakdown(t, layers)),
  ];
}

// ---- the view ------------------------------------------------------------------------------------------------

export function mountExplain(root: HTMLElement, app: App): void {
  const header = h('div', { class: 'explain-head' });
  const body = h('div', { class: 'explain-body' });
  const index = h('input', {
    type: 'number',
    min: 0,
    max: 9999,
    value: 0,
    class: 'short',
    'aria-label': 'Test digit index',
  });
  const explainIndex = () => void app.traceTestDigit(Math.max(0, Math.min(9999, Number(index.value) | 0)));
  index.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') explainIndex();
  });
  const pick = h(
    'div',
    { class: 'row' },
    'Or explain test digit #',
    index,
    h('button', { type: 'button', class: 'secondary', onclick: explainIndex }, 'Explain'),
  );
  const saliency = saliencyPanel(app, 'explain', 240);
  const saliencyCard = h(
    'section',
    { class: 'card', hidden: true },
    h('h3', {}, 'Where the network looks'),
    saliency.element,
  );
  root.append(h('div', { class: 'card' }, header, pick), saliencyCard, body);
  const follow = (t: TraceResult) => {
    saliencyCard.hidden = false;
    saliency.update(t);
  };
  app.onTrace(follow);
  if (app.trace) follow(app.trace); // mounted after the first input (the view is loaded when first needed)

  let dirty = true;
  const render = () => {
    if (app.view !== 'explain') {
      dirty = true;
      return;
    }
    dirty = false;
    const t = app.trace,
      model = app.model;
    // The trace must come from this model (a new model's trace is on its way when they differ).
    const matches =
      t && model && t.z.length === model.layers.length && t.z.every((z, i) => z.length === model.layers[i]!.out);
    if (!t || !model || !matches) {
      fill(
        header,
        h('h2', {}, 'Explain'),
        h(
          'p',
          { class: 'muted' },
          'Draw a digit in the Draw tab (or pick a test digit below) to follow it through the network.',
        ),
      );
      fill(body);
      return;
    }
    const label = app.traceLabel;
    const verdict =
      label === undefined
        ? ''
        : label === t.prediction
          ? ` The true label is ${label}: right.`
          : ` The true label is ${label}: wrong.`;
    fill(
      header,
      h('h2', {}, `Why ${t.prediction}?`),
      h(
        'p',
        { class: 'muted' },
        `Input: ${app.traceSource}. The network says ${t.prediction} with ${(100 * t.probabilities[t.prediction]!).toFixed(1)}% probability.${verdict}`,
      ),
    );
    fill(body, forwardPass(t, model.layers, model.summary.settings.activations, label), ...unitCards(t, model.layers));
  };
  app.onTrace(render);
  // A new model re-runs the current input (the Draw view asks the worker), and that new trace redraws this view.
  app.onModel(() => {
    if (!app.trace) render();
  });
  app.onView((v) => {
    if (v === 'explain' && dirty) render();
  });
}
