// Entry point of the page: creates the app state and with it the engine worker (first, so the worker and the default
// model load while the rest starts), mounts the model panel and the Draw view, wires the tabs (the WAI-ARIA tabs
// pattern: arrow keys, Home/End, #hash routing), loads the bundled default model and starts the service worker
// (offline, and cross-origin isolation on hosts that cannot send the headers). The other views, and @mnist/viz for
// every figure, are chunks of their own: each view is loaded and mounted when it is first shown, or before that once
// the first model is in and the page is idle, one per idle period.
import { App } from './app.js';
import { h } from './dom.js';
import { formatError } from './errors.js';
import { loadViz, nextTask, openFigures } from './figure.js';
import { startServiceWorker } from './offline.js';
import { mountDraw } from './views/draw.js';
import { mountModel } from './views/model.js';

const app = new App();
const $ = (id: string) => document.getElementById(id)!;

// Ask the worker for the default model first, so fetching and parsing it overlaps with building the views.
const modelReady = mountModel($('model'), app)();
startServiceWorker(modelReady);
// The Draw view and the tabs in a task of their own: each start-up task stays short on a busy machine (this one
// evaluated the page's code, started the worker and the model's download, and lays out the page).
await nextTask();
mountDraw($('view-draw'), app);
// The page's first Intl number format loads the locale's data (10-30 ms here): in a task of its own now, while the
// worker loads the model, rather than inside the model summary (its parameter count) or a figure's first axis.
void nextTask().then(() => (0).toLocaleString('en-US') + new Intl.NumberFormat('en-US').format(0));

type Mount = (root: HTMLElement, app: App) => void;
const LATER: Record<string, () => Promise<Mount>> = {
  explain: () => import('./views/explain.js').then((m) => m.mountExplain),
  test: () => import('./views/testset.js').then((m) => m.mountTestSet),
  weights: () => import('./views/weights.js').then((m) => m.mountWeights),
  train: () => import('./views/train.js').then((m) => m.mountTrain),
};
const mounted = new Map<string, Promise<void>>();

/** Loads view `view`'s code and viz, and mounts it once; it is told when it is the view shown. */
function mountLater(view: string): Promise<void> {
  let done = mounted.get(view);
  if (!done) {
    done = Promise.all([LATER[view]!(), loadViz()]).then(
      ([mount]) => {
        mount($(`view-${view}`), app);
        if (app.view === view) app.show(view);
      },
      (err: unknown) => {
        mounted.delete(view); // tried again when shown again
        $(`view-${view}`).replaceChildren(h('p', { class: 'error' }, 'Could not load this view: ', formatError(err)));
      },
    );
    mounted.set(view, done);
  }
  return done;
}

const idle = (): Promise<void> =>
  new Promise((resolve) =>
    'requestIdleCallback' in window
      ? requestIdleCallback(() => resolve(), { timeout: 2000 })
      : setTimeout(resolve, 200),
  );
// Once the first model is in: the figures (viz), then the other views before they are asked for, one per idle period.
void modelReady.then(async () => {
  await idle();
  openFigures();
  for (const view of Object.keys(LATER)) {
    await idle();
    await mountLater(view);
  }
});

const tabs = [...document.querySelectorAll<HTMLButtonElement>('.tabs [role=tab]')];
let shown = '';
function show(view: string, focus = false): void {
  if (!tabs.some((t) => t.dataset.view === view)) view = 'draw';
  for (const tab of tabs) {
    const on = tab.dataset.view === view;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1; // one tab stop for the tab list; the arrow keys move within it
    if (on && focus) tab.focus();
    $(`view-${tab.dataset.view}`).hidden = !on;
  }
  if (view in LATER) void mountLater(view);
  if (location.hash.slice(1) !== view) history.replaceState(null, '', `#${view}`);
  // The view draws in the next task: this one only switches the tab and the panel, which the browser can paint first.
  shown = view;
  void nextTask().then(() => {
    if (shown === view) app.show(view);
  });
}
for (const tab of tabs) {
  tab.addEventListener('click', () => show(tab.dataset.view!));
  $(`view-${tab.dataset.view}`).tabIndex = 0; // Tab goes from the tab list to the panel (the WAI-ARIA tabs pattern)
}
// Arrow keys move to the previous/next tab (wrapping), Home/End to the first/last; a tab is shown as it gets focus.
$('tabs').addEventListener('keydown', (e) => {
  const at = tabs.indexOf(e.target as HTMLButtonElement);
  if (at < 0) return;
  const to = {
    ArrowRight: (at + 1) % tabs.length,
    ArrowLeft: (at - 1 + tabs.length) % tabs.length,
    Home: 0,
    End: tabs.length - 1,
  }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  show(tabs[to]!.dataset.view!, true);
});
window.addEventListener('hashchange', () => show(location.hash.slice(1)));
show(location.hash.slice(1));
