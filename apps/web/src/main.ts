// Entry point of the page: starts the service worker (offline, and cross-origin isolation on hosts that cannot send
// the headers), creates the app state and the engine worker, mounts the six views, wires the tabs (the WAI-ARIA tabs
// pattern: arrow keys, Home/End, #hash routing), and loads the bundled default model.
import { App } from './app.js';
import { startServiceWorker } from './offline.js';
import { mountModel } from './views/model.js';
import { mountDraw } from './views/draw.js';
import { mountExplain } from './views/explain.js';
import { mountTestSet } from './views/testset.js';
import { mountWeights } from './views/weights.js';
import { mountTrain } from './views/train.js';

const app = new App();
const $ = (id: string) => document.getElementById(id)!;

// Ask the worker for the default model first, so fetching and parsing it overlaps with building the views.
const modelReady = mountModel($('model'), app)();
mountDraw($('view-draw'), app);
mountExplain($('view-explain'), app);
mountTestSet($('view-test'), app);
mountWeights($('view-weights'), app);
mountTrain($('view-train'), app);
startServiceWorker(modelReady);

const tabs = [...document.querySelectorAll<HTMLButtonElement>('.tabs [role=tab]')];
function show(view: string, focus = false): void {
  if (!tabs.some((t) => t.dataset.view === view)) view = 'draw';
  for (const tab of tabs) {
    const on = tab.dataset.view === view;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1; // one tab stop for the tab list; the arrow keys move within it
    if (on && focus) tab.focus();
    $(`view-${tab.dataset.view}`).hidden = !on;
  }
  if (location.hash.slice(1) !== view) history.replaceState(null, '', `#${view}`);
  app.show(view);
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
