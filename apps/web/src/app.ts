// Shared state of the page: the engine worker, the current model and the current input's forward pass, with
// listeners so each view redraws when they change.
import { MNIST_PIXELS, toInput } from '@mnist/loader/data';
import { Engine } from './engine.js';
import type { ModelInfo, TestSet, TraceResult } from './protocol.js';

type Listener<T> = (value: T) => void;

export class App {
  readonly engine = new Engine();
  model?: ModelInfo;
  /** The forward pass of the current input (the drawing, a photo, or a test digit) and where it came from. */
  trace?: TraceResult;
  traceSource = '';
  /** The true class of the current input when known (a test digit). */
  traceLabel?: number;
  view = '';
  private readonly modelListeners: Listener<ModelInfo>[] = [];
  private readonly traceListeners: Listener<TraceResult>[] = [];
  private readonly viewListeners: Listener<string>[] = [];

  onModel(fn: Listener<ModelInfo>): void {
    this.modelListeners.push(fn);
  }
  onTrace(fn: Listener<TraceResult>): void {
    this.traceListeners.push(fn);
  }
  onView(fn: Listener<string>): void {
    this.viewListeners.push(fn);
  }

  setModel(model: ModelInfo): void {
    this.model = model;
    for (const fn of this.modelListeners) fn(model);
  }

  setTrace(trace: TraceResult, source: string, label?: number): void {
    this.trace = trace;
    this.traceSource = source;
    this.traceLabel = label;
    for (const fn of this.traceListeners) fn(trace);
  }

  private testSetPromise?: Promise<TestSet>;

  /** The MNIST test set (fetched and inflated by the worker on first use, then kept). */
  testSet(): Promise<TestSet> {
    this.testSetPromise ??= this.engine.call({ op: 'testset' });
    this.testSetPromise.catch(() => {
      this.testSetPromise = undefined;
    });
    return this.testSetPromise;
  }

  /** Makes test digit `index` the current input (for the Explain view). */
  async traceTestDigit(index: number): Promise<void> {
    const test = await this.testSet();
    const input = toInput(test.pixels, index * MNIST_PIXELS, (index + 1) * MNIST_PIXELS);
    const t = await this.engine.call({ op: 'trace', input });
    this.setTrace(t, `test digit #${index}`, test.labels[index]);
  }

  /** Switches the visible view (tabs) and tells views, so they can load data lazily when first shown. */
  show(view: string): void {
    this.view = view;
    for (const fn of this.viewListeners) fn(view);
  }
}
