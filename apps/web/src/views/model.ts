// Model panel: the bundled default model or the user's own .pth (picked or dropped), parsed in the worker; the
// summary of what was loaded, and the loader's message when a file is refused (the previous model keeps working);
// the activation and input normalization it runs with, where each came from, and selects that change them.
// On a narrow screen the panel folds into a one-line summary (a disclosure button) so the drawing pad stays on the
// first screen; a tap opens it, and an error opens it too.
import { escapeControl } from '@mnist/loader';
import type { App } from '../app.js';
import { fill, fmtInt, fmtMs, h } from '../dom.js';
import { formatError, WebError } from '../errors.js';
import type { ModelInfo, ModelSummary } from '../protocol.js';
import {
  ACTIVATION_CHOICES,
  activationText,
  NORMALIZE_CHOICES,
  normalizeChoice,
  normalizeText,
  settingsReport,
} from '../settings.js';

const DEFAULT_URL = 'models/mnist_model.pth';
const DEFAULT_NAME = 'mnist_model.pth';

export function mountModel(root: HTMLElement, app: App): () => Promise<void> {
  const summary = h(
    'div',
    { class: 'summary', 'data-testid': 'model-summary', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Loading the default model…'),
  );
  const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const input = h('input', {
    type: 'file',
    accept: '.pth,.pt,.bin,application/octet-stream',
    'data-testid': 'model-file',
    class: 'visually-hidden',
    id: 'model-file',
  });
  const busy = h('span', { class: 'busy', hidden: true }, 'Reading…');
  const drop = h(
    'label',
    { class: 'drop', for: 'model-file' },
    h('strong', {}, 'Drop a .pth file here'),
    h('span', {}, 'or click to choose one'),
    h('small', {}, 'A PyTorch state_dict of an MLP (784 inputs, 10 classes). Parsed safely in a worker: no code runs.'),
  );
  const reset = h(
    'button',
    { class: 'link', type: 'button', onclick: () => void loadDefault() },
    'Back to the default model',
  );

  const activation = h(
    'select',
    { 'data-testid': 'activation', id: 'model-activation' },
    h('option', { value: '', disabled: true }, 'per layer'),
    ...ACTIVATION_CHOICES.map((name) => h('option', { value: name }, name)),
  );
  const normalize = h(
    'select',
    { 'data-testid': 'normalize', id: 'model-normalize' },
    h('option', { value: 'none' }, 'none (x/255)'),
    h('option', { value: 'mnist' }, `MNIST ${normalizeText(NORMALIZE_CHOICES.mnist)}`),
    h('option', { value: '', disabled: true }, 'other'),
  );
  const choices = h(
    'div',
    { class: 'settings' },
    h('label', { for: 'model-activation' }, 'Activation (all hidden layers) '),
    activation,
    ' ',
    h('label', { for: 'model-normalize' }, 'Input normalization '),
    normalize,
  );

  const line = h('span', { class: 'model-line', 'data-testid': 'model-line' }, 'Loading the default model…');
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'model-toggle',
      'aria-expanded': 'false',
      'aria-controls': 'model-body',
      'data-testid': 'model-toggle',
    },
    h('span', { class: 'model-toggle-label' }, 'Model'),
    line,
  );
  const open = (on: boolean) => {
    root.classList.toggle('open', on);
    toggle.setAttribute('aria-expanded', String(on));
  };
  toggle.addEventListener('click', () => open(!root.classList.contains('open')));
  const body = h('div', { class: 'model-body', id: 'model-body' });
  body.append(h('h2', {}, 'Model'), summary, choices, error, input, drop, busy, reset); // input first: its focus ring shows on the label
  root.append(toggle, body);

  const showError = (err: unknown, file: string) => {
    fill(
      error,
      formatError(err, file),
      h('div', { class: 'hint' }, app.model ? `Still using ${escapeControl(app.model.summary.file)}.` : ''),
    );
    error.hidden = false;
    open(true);
  };

  async function run(file: string, job: () => Promise<ModelInfo>): Promise<void> {
    busy.hidden = false;
    try {
      const model = await job();
      error.hidden = true;
      app.setModel(model);
      if (!performance.getEntriesByName('model-ready').length) performance.mark('model-ready'); // for scripts/perf.mjs
    } catch (err) {
      showError(err, file);
    } finally {
      busy.hidden = true;
    }
  }

  async function loadDefault(): Promise<void> {
    await run(DEFAULT_NAME, async () => {
      // Fetched here rather than in the worker: index.html preloads it, so the download overlaps script start-up.
      const res = await fetch(DEFAULT_URL);
      if (!res.ok)
        throw new WebError(
          'WEB_FETCH',
          `could not fetch ${DEFAULT_URL}: HTTP ${res.status}`,
          'is the server still running?',
        );
      const bytes = await res.arrayBuffer();
      return app.engine.call({ op: 'load', bytes, file: DEFAULT_NAME, source: 'default' }, [bytes]);
    });
  }

  async function loadFile(file: File): Promise<void> {
    const bytes = await file.arrayBuffer();
    await run(file.name, () => app.engine.call({ op: 'load', bytes, file: file.name, source: 'upload' }, [bytes]));
  }

  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) void loadFile(file);
  });
  for (const type of ['dragenter', 'dragover'] as const) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void loadFile(file);
  });

  // Either select rebuilds the worker's network with the same weights; every prediction after it uses the choice.
  activation.addEventListener('change', () => {
    const name = activation.value as (typeof ACTIVATION_CHOICES)[number];
    if (name) void run(app.model?.summary.file ?? '', () => app.engine.call({ op: 'configure', activation: name }));
  });
  normalize.addEventListener('change', () => {
    const choice = normalize.value as keyof typeof NORMALIZE_CHOICES;
    if (choice in NORMALIZE_CHOICES)
      void run(app.model?.summary.file ?? '', () =>
        app.engine.call({ op: 'configure', normalize: NORMALIZE_CHOICES[choice] }),
      );
  });

  app.onModel(({ summary: s }) => {
    fill(summary, ...summaryNodes(s));
    fill(
      line,
      `${s.sizes.join(' → ')} · ${escapeControl(s.file)}${s.taught ? ` · ${taughtText(s.taught)}` : ''} · ${s.threads} thread${s.threads === 1 ? '' : 's'}`,
    );
    reset.hidden = s.source === 'default';
    const names = new Set(s.settings.activations.map((a) => a.name));
    activation.value = names.size === 1 ? [...names][0]! : '';
    activation.disabled = s.settings.activations.length === 0;
    normalize.value = normalizeChoice(s.settings.normalize);
  });

  return loadDefault;
}

/** "changed by 2 teaching steps": the weights are no longer the file's (Teach it). */
function taughtText(steps: number): string {
  return `changed by ${steps} teaching step${steps === 1 ? '' : 's'}`;
}

/** The loaded model as the panel shows it: file and source, architecture, settings, facts, the loader's warnings. */
function summaryNodes(s: ModelSummary): HTMLElement[] {
  const settings = settingsReport(s.settings);
  const nodes = [
    h(
      'div',
      { class: 'file' },
      h('span', { class: `badge ${s.source}` }, s.source),
      ' ',
      h('code', {}, escapeControl(s.file)),
    ),
    // on a line of its own: beside the file name it would squeeze both in the narrow panel
    ...(s.taught
      ? [
          h(
            'div',
            { class: 'taught-line' },
            h('span', { class: 'badge taught', 'data-testid': 'model-taught' }, taughtText(s.taught)),
          ),
        ]
      : []),
    h('div', { class: 'arch' }, s.sizes.join(' → ')),
    h(
      'dl',
      {},
      h('dt', {}, 'Layers'),
      h(
        'dd',
        {},
        ...s.layers.map((l, i) =>
          h(
            'div',
            {},
            h('code', {}, escapeControl(l.name)),
            ` ${l.in}×${l.out}`,
            i < s.layers.length - 1 ? `, ${activationText(s.settings.activations[i]!)}` : '',
          ),
        ),
      ),
      h('dt', {}, 'Activation'),
      h(
        'dd',
        { 'data-testid': 'model-activation', 'data-source': s.settings.source.activation },
        settings.activation,
        ' ',
        h('span', { class: `badge ${s.settings.source.activation}` }, s.settings.source.activation),
      ),
      h('dt', {}, 'Input'),
      h(
        'dd',
        { 'data-testid': 'model-normalize', 'data-source': s.settings.source.normalize },
        settings.normalize,
        ' ',
        h('span', { class: `badge ${s.settings.source.normalize}` }, s.settings.source.normalize),
      ),
      h('dt', {}, 'Parameters'),
      h('dd', {}, fmtInt(s.parameters)),
      h('dt', {}, 'Weights'),
      h('dd', {}, s.dtype),
      h('dt', {}, 'Format'),
      h('dd', {}, s.format),
      h('dt', {}, 'Engine'),
      h('dd', {}, `WASM ${s.variant}, ${s.threads} thread${s.threads === 1 ? '' : 's'}`),
      s.loadMs ? h('dt', {}, 'Parsed in') : null,
      s.loadMs ? h('dd', {}, fmtMs(s.loadMs)) : null,
    ),
  ];
  nodes.push(h('p', { class: 'settings-line' }, settings.line));
  if (settings.assumed) nodes.push(h('p', { class: 'assumed-line', 'data-testid': 'assumed' }, settings.assumed));
  if (s.warnings.length)
    nodes.push(h('ul', { class: 'warnings' }, ...s.warnings.map((w) => h('li', {}, escapeControl(w)))));
  return nodes;
}
