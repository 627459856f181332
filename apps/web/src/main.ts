// Entry point of the page: creates the app state and the engine worker, mounts the six views, wires the tabs,
// and loads the bundled default model.
import { App } from './app.js';
import { mountModel } from './views/model.js';
import { mountDraw } from './views/draw.js';
import { mountExplain } from './views/explain.js';
import { mountTestSet } from './views/testset.js';
import { mountWeights } from './views/weights.js';
import { mountTrain } from './views/train.js';

const app = new App();
const $ = (id: string) => document.getElementById(id)!;

// Ask the worker for the default model first, so fetching and parsing it overlaps with building the views.
void mountModel($('model'), app)();
mountDraw($('view-draw'), app);
mountExplain($('view-explain'), app);
mountTestSet($('view-test'), app);
mountWeights($('view-weights'), app);
mountTrain($('view-train'), app);

const tabs = [...document.querySelectorAll<HTMLButtonElement>('.tabs button')];
function show(view: string): void {
  if (!tabs.some((t) => t.dataset.view === view)) view = 'draw';
  for (const tab of tabs) {
    const on = tab.dataset.view === view;
    tab.setAttribute('aria-selected', String(on));
    $(`view-${tab.dataset.view}`).hidden = !on;
  }
  if (location.hash.slice(1) !== view) history.replaceState(null, '', `#${view}`);
  app.show(view);
}
for (const tab of tabs) tab.addEventListener('click', () => show(tab.dataset.view!));
window.addEventListener('hashchange', () => show(location.hash.slice(1)));
show(location.hash.slice(1));
