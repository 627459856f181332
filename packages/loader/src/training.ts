// A training run's checkpoint file, between the engine and PyTorch: the engine's optimizer state (per layer, in
// torch.optim's buffer names) as `optimizer.state_dict()` numbers parameters (fc1.weight, fc1.bias, fc2.weight, ...
// = model.parameters() order, one param group), the schedule as the matching lr_scheduler's state_dict (StepLR,
// CosineAnnealingLR, OneCycleLR, SequentialLR(LinearLR, ...) for a warm-up), and what only this engine needs to
// resume exactly (its run configuration, history and best epoch) in one extra 'mnist_wasm' entry. Types here are
// structural: the engine's own (@mnist/core-wasm) fit them without this package depending on it.
import { type Checkpoint, readCheckpoint, saveCheckpoint } from './checkpoint.js';
import { PthError } from './errors.js';
import type { PthTensor } from './pth-file.js';
import { type PyDict, type PyValue, PyOrderedDict, PyTuple, isTensorValue } from './py-value.js';
import type { SavePthTensor } from './save.js';
import { quote } from './text.js';

/** The engine's optimizer state (Mlp.optimizerState()): per layer, weight and bias buffers by torch.optim's names. */
export interface EngineOptimizerState {
  optimizer: 'sgd' | 'adam' | 'adamw';
  step: number;
  layers: { weight: Record<string, Float32Array>; bias: Record<string, Float32Array> | null }[];
}

/** The optimizer's hyper-parameters as the engine takes them (TrainOptions without the per-step options). */
export interface EngineOptimizerConfig {
  optimizer?: 'sgd' | 'adam' | 'adamw';
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  betas?: readonly [number, number];
  eps?: number;
  amsgrad?: boolean;
}

/** A schedule's state as the engine keeps it (Schedule.state()). */
export interface EngineScheduleState {
  spec: {
    kind: string;
    stepSize?: number;
    gamma?: number;
    total?: number;
    minLr?: number;
    maxLr?: number;
    pctStart?: number;
    anneal?: string;
    divFactor?: number;
    finalDivFactor?: number;
    cycleMomentum?: boolean;
    baseMomentum?: number;
    maxMomentum?: number;
    warmup?: number;
    warmupStartFactor?: number;
  };
  baseLr: number;
  steps: number;
  lr: number;
  /** OneCycleLR's momentum / beta1 for the next step, when it cycles it */
  momentum?: number | null;
}

/** Each layer's shape and whether it has a bias: how parameters are numbered. */
export interface ParamLayout {
  out: number;
  in: number;
  hasBias: boolean;
}

export interface RunCheckpointInput {
  /** epochs completed */
  epoch: number;
  /** model_state_dict, in model.parameters() order */
  model: SavePthTensor[];
  layout: ParamLayout[];
  optimizer: EngineOptimizerState | null;
  optimizerConfig: EngineOptimizerConfig;
  /** the lr the next step would use (param_groups' 'lr') */
  lr: number;
  schedule: EngineScheduleState | null;
  /** the momentum / beta1 OneCycleLR set for the next step, if it cycles it */
  momentum?: number | null;
  /** the engine's run (configuration, history, best epoch...), JSON-serialisable; kept as a JSON string */
  run: unknown;
  /** the best epoch's weights, when the run keeps them (same names as model) */
  best?: SavePthTensor[] | null;
}

export interface RunCheckpoint {
  epoch: number | null;
  model: PthTensor[];
  optimizer: EngineOptimizerState | null;
  /** the hyper-parameters the file's param group holds (PyTorch's names mapped to the engine's) */
  optimizerConfig: EngineOptimizerConfig | null;
  /** the schedule's position: lr_scheduler's last_epoch (steps taken), or null without a scheduler */
  scheduleSteps: number | null;
  /** the scheduler_state_dict as the file holds it (for messages) */
  scheduler: PyDict | null;
  /** the engine's run (parsed from 'mnist_wasm'), null for a file made by PyTorch; to be validated by the caller */
  run: unknown;
  best: PthTensor[] | null;
  warnings: string[];
}

const ENGINE_KEY = 'mnist_wasm';
const int = (n: number) => BigInt(n);
const f32tensor = (data: Float32Array, shape: number[]) => ({ dtype: 'float32' as const, shape, data });

/** param_groups[0] as torch.optim writes it (Python types as PyTorch's defaults have them). */
function paramGroup(
  c: EngineOptimizerConfig,
  lr: number,
  count: number,
  momentum: number | null | undefined,
  schedule: EngineScheduleState | null,
): PyDict {
  const g: PyDict = new Map();
  const name = c.optimizer ?? 'sgd';
  const num = (v: number | undefined, dflt: number) =>
    v === undefined ? (Number.isInteger(dflt) ? int(dflt) : dflt) : v;
  g.set('lr', lr);
  if (name === 'sgd') {
    g.set('momentum', momentum ?? num(c.momentum, 0));
    g.set('dampening', num(c.dampening, 0));
    g.set('weight_decay', num(c.weightDecay, 0));
    g.set('nesterov', c.nesterov ?? false);
    g.set('maximize', false);
    g.set('foreach', null);
    g.set('differentiable', false);
  } else {
    const betas = c.betas ?? [0.9, 0.999];
    g.set('betas', new PyTuple([momentum ?? betas[0], betas[1]]));
    g.set('eps', c.eps ?? 1e-8);
    g.set('weight_decay', num(c.weightDecay, name === 'adamw' ? 0.01 : 0));
    g.set('amsgrad', c.amsgrad ?? false);
    g.set('maximize', false);
    g.set('foreach', null);
    g.set('capturable', false);
    if (name === 'adam') {
      g.set('differentiable', false);
      g.set('fused', false);
    }
  }
  if (schedule) {
    g.set(
      'initial_lr',
      schedule.spec.kind === 'onecycle'
        ? (schedule.spec.maxLr ?? schedule.baseLr) / (schedule.spec.divFactor ?? 25)
        : schedule.baseLr,
    );
    if (schedule.spec.kind === 'onecycle') {
      const max = schedule.spec.maxLr ?? schedule.baseLr;
      g.set('max_lr', max);
      g.set('min_lr', max / (schedule.spec.divFactor ?? 25) / (schedule.spec.finalDivFactor ?? 1e4));
      if (schedule.spec.cycleMomentum ?? true) {
        g.set('max_momentum', schedule.spec.maxMomentum ?? 0.95);
        g.set('base_momentum', schedule.spec.baseMomentum ?? 0.85);
      }
    }
  }
  g.set(
    'params',
    Array.from({ length: count }, (_, i) => int(i)),
  );
  return g;
}

/** The lr_scheduler state_dict PyTorch would hold after `steps` scheduler.step() calls. */
function schedulerDict(s: EngineScheduleState, useBeta1: boolean): PyDict {
  const common = (sd: PyDict, lastEpoch: number, baseLr: number, lastLr: number, stepCount = lastEpoch + 1) => {
    sd.set('base_lrs', [baseLr]);
    sd.set('last_epoch', int(lastEpoch));
    sd.set('verbose', false);
    sd.set('_step_count', int(stepCount));
    sd.set('_get_lr_called_within_step', false);
    sd.set('_last_lr', [lastLr]);
    return sd;
  };
  const sp = s.spec;
  const warmup = sp.warmup ?? 0;
  const main = (lastEpoch: number, stepCount = lastEpoch + 1): PyDict => {
    const sd: PyDict = new Map();
    if (sp.kind === 'step') {
      sd.set('step_size', int(sp.stepSize ?? 1));
      sd.set('gamma', sp.gamma ?? 0.1);
    } else if (sp.kind === 'cosine') {
      sd.set('T_max', int(sp.total ?? 1));
      sd.set('eta_min', sp.minLr ?? 0);
    } else if (sp.kind === 'onecycle') {
      const total = sp.total ?? 1;
      const pct = sp.pctStart ?? 0.3;
      const initial = (sp.maxLr ?? s.baseLr) / (sp.divFactor ?? 25);
      sd.set('total_steps', int(total));
      sd.set('_schedule_phases', [
        new Map<string, PyValue>([
          ['end_step', pct * total - 1],
          ['start_lr', 'initial_lr'],
          ['end_lr', 'max_lr'],
          ['start_momentum', 'max_momentum'],
          ['end_momentum', 'base_momentum'],
        ]),
        new Map<string, PyValue>([
          ['end_step', int(total - 1)],
          ['start_lr', 'max_lr'],
          ['end_lr', 'min_lr'],
          ['start_momentum', 'base_momentum'],
          ['end_momentum', 'max_momentum'],
        ]),
      ]);
      sd.set('cycle_momentum', sp.cycleMomentum ?? true);
      sd.set('use_beta1', useBeta1);
      return common(sd, lastEpoch, initial, s.lr);
    }
    return common(sd, lastEpoch, s.baseLr, s.lr, stepCount);
  };
  if (warmup === 0 || sp.kind === 'onecycle') return main(s.steps);
  // SequentialLR([LinearLR(start_factor, total_iters=warmup), main], milestones=[warmup])
  const linear: PyDict = new Map<string, PyValue>([
    ['start_factor', sp.warmupStartFactor ?? 1 / 3],
    ['end_factor', 1.0],
    ['total_iters', int(warmup)],
  ]);
  // as SequentialLR keeps them (torch 1.13): its own last_epoch counts the steps; LinearLR stops one short of the
  // milestone; the main scheduler sits at last_epoch -1 until the milestone restarts it with step(0)
  common(linear, Math.min(s.steps, warmup - 1), s.baseLr, s.lr);
  const past = s.steps >= warmup;
  const seq: PyDict = new Map<string, PyValue>([
    ['_milestones', [int(warmup)]],
    ['last_epoch', int(s.steps)],
    ['_last_lr', [s.lr]],
    ['_schedulers', [linear, past ? main(s.steps - warmup, s.steps - warmup + 2) : main(-1, 1)]],
  ]);
  return seq;
}

function badRun(problem: string): PthError {
  return new PthError('PTH_BAD_ARGUMENT', problem, 'pass the layers and the optimizer state the engine gives');
}

/** The training checkpoint file of a run: PyTorch's layout plus the engine's 'mnist_wasm' entry. */
export function saveRunCheckpoint(input: RunCheckpointInput): Uint8Array {
  const { layout } = input;
  const count = layout.reduce((n, L) => n + (L.hasBias ? 2 : 1), 0);
  let optimizer = null;
  if (input.optimizer || input.optimizerConfig) {
    const state = new Map<
      number,
      { step?: number; buffers: Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array } | null> }
    >();
    const s = input.optimizer;
    if (s) {
      if (s.layers.length !== layout.length)
        throw badRun(`optimizer state for ${s.layers.length} layers, the model has ${layout.length}`);
      let index = 0;
      s.layers.forEach((L, i) => {
        const { out, in: inp, hasBias } = layout[i]!;
        for (const [part, record, shape] of [
          ['weight', L.weight, [out, inp]],
          ['bias', L.bias, [out]],
        ] as const) {
          if (part === 'bias' && !hasBias) continue;
          const buffers = new Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array } | null>();
          for (const [key, data] of Object.entries(record ?? {})) {
            if (data.length !== shape.reduce((a, b) => a * b, 1))
              throw badRun(`layer ${i} ${part} ${key} has ${data.length} values`);
            buffers.set(key, f32tensor(data, [...shape]));
          }
          if (buffers.size > 0 || s.optimizer !== 'sgd') {
            state.set(index, s.optimizer === 'sgd' ? { buffers } : { step: s.step, buffers });
          }
          index++;
        }
      });
    }
    optimizer = {
      state,
      paramGroups: [paramGroup(input.optimizerConfig, input.lr, count, input.momentum, input.schedule)],
    };
  }
  const extra = new Map<string, PyValue>();
  const engine: PyDict = new Map<string, PyValue>([
    ['format', int(1)],
    ['run', JSON.stringify(input.run)],
  ]);
  if (input.schedule) engine.set('schedule', JSON.stringify(input.schedule));
  if (input.best) {
    const best = new PyOrderedDict();
    for (const t of input.best) best.set(t.name, f32tensor(t.data, t.shape));
    engine.set('best_model_state_dict', best);
  }
  extra.set(ENGINE_KEY, engine);
  return saveCheckpoint({
    epoch: input.epoch,
    model: input.model,
    optimizer,
    scheduler: input.schedule
      ? schedulerDict(input.schedule, (input.optimizerConfig.optimizer ?? 'sgd') !== 'sgd')
      : null,
    extra,
  });
}

function badFile(problem: string, hint = 'save a checkpoint with one param group over model.parameters()'): PthError {
  return new PthError('PTH_BAD_CHECKPOINT', problem, hint);
}

const asNumber = (v: PyValue | undefined): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;

/** The engine's optimizer config from a param group's hyper-parameters (PyTorch's names). */
function configFromGroup(g: PyDict, name: 'sgd' | 'adam' | 'adamw'): EngineOptimizerConfig {
  // the run's base lr: a scheduler keeps it as 'initial_lr' ('lr' is where the schedule has got to)
  const lr = asNumber(g.get('initial_lr')) ?? asNumber(g.get('lr'));
  if (lr === undefined) throw badFile("the optimizer's param group has no numeric 'lr'");
  if (name === 'sgd') {
    return {
      optimizer: 'sgd',
      lr,
      momentum: asNumber(g.get('momentum')) ?? 0,
      dampening: asNumber(g.get('dampening')) ?? 0,
      nesterov: g.get('nesterov') === true,
      weightDecay: asNumber(g.get('weight_decay')) ?? 0,
    };
  }
  const betas = g.get('betas');
  const pair =
    betas instanceof PyTuple || Array.isArray(betas) ? (betas instanceof PyTuple ? betas.items : betas) : null;
  return {
    optimizer: name,
    lr,
    betas: pair && pair.length === 2 ? [asNumber(pair[0]) ?? 0.9, asNumber(pair[1]) ?? 0.999] : undefined,
    eps: asNumber(g.get('eps')),
    weightDecay: asNumber(g.get('weight_decay')),
    amsgrad: g.get('amsgrad') === true,
  };
}

/**
 * Reads a training checkpoint (ours or PyTorch's) for resuming: the optimizer state per layer of `layout`, under
 * readCheckpoint's budgets. `optimizer` names the optimizer (PyTorch's state_dict does not say which class made it;
 * the engine's own files do): a mismatch with the buffers found is refused.
 */
export async function readRunCheckpoint(
  bytes: Uint8Array,
  layout: (model: PthTensor[]) => ParamLayout[],
  optimizer?: 'sgd' | 'adam' | 'adamw',
): Promise<RunCheckpoint> {
  const ck: Checkpoint & { warnings: string[] } = await readCheckpoint(bytes);
  const engine = ck.extra.get(ENGINE_KEY);
  let run: unknown = null;
  let best: PthTensor[] | null = null;
  let scheduleSteps: number | null = null;
  if (engine instanceof Map) {
    const text = engine.get('run');
    if (typeof text !== 'string')
      throw badFile(`'${ENGINE_KEY}' has no run description`, 'use a checkpoint written by mnist train --checkpoint');
    try {
      run = JSON.parse(text);
    } catch {
      throw badFile(`'${ENGINE_KEY}'['run'] is not valid JSON`, 'use a checkpoint written by mnist train --checkpoint');
    }
    const b = engine.get('best_model_state_dict');
    if (b instanceof Map) {
      best = [];
      for (const [name, t] of b) {
        if (typeof name !== 'string' || !isTensorValue(t))
          throw badFile(`'${ENGINE_KEY}'['best_model_state_dict'] holds a non-tensor`);
        best.push({ name, dtype: t.dtype, shape: t.shape, data: t.data } as PthTensor);
      }
    }
  }
  if (ck.scheduler) {
    const last = asNumber(ck.scheduler.get('last_epoch'));
    if (last === undefined || !Number.isInteger(last) || last < 0)
      throw badFile("the scheduler's state has no integer 'last_epoch'");
    scheduleSteps = last; // scheduler.step() calls so far (SequentialLR's own last_epoch counts them too)
  }
  const layers = layout(ck.model);
  let state: EngineOptimizerState | null = null;
  let config: EngineOptimizerConfig | null = null;
  if (ck.optimizer) {
    const groups = ck.optimizer.paramGroups;
    if (groups.length !== 1) {
      throw badFile(`the optimizer has ${groups.length} param groups; the engine trains one group over all parameters`);
    }
    const group = groups[0]!;
    const count = layers.reduce((n, L) => n + (L.hasBias ? 2 : 1), 0);
    const params = group.get('params');
    if (!Array.isArray(params) || params.length !== count) {
      throw badFile(
        `the optimizer's param group lists ${Array.isArray(params) ? params.length : 'no'} parameters; the model has ${count}`,
      );
    }
    const keys = new Set<string>();
    for (const p of ck.optimizer.state.values()) for (const [k, v] of p.buffers) if (v) keys.add(k);
    const found: 'sgd' | 'adam' | 'adamw' | null = keys.has('exp_avg') ? 'adam' : group.has('momentum') ? 'sgd' : null;
    const name = optimizer ?? (found === 'adam' ? (group.has('fused') ? 'adam' : 'adamw') : (found ?? 'sgd'));
    if (found && (found === 'sgd') !== (name === 'sgd')) {
      throw badFile(
        `the checkpoint holds ${found === 'sgd' ? 'SGD' : 'Adam/AdamW'} state, not ${name}'s`,
        `resume with the optimizer it was trained with (--optimizer ${found === 'sgd' ? 'sgd' : 'adam or adamw'})`,
      );
    }
    config = configFromGroup(group, name);
    let step = 0;
    let index = 0;
    const out: EngineOptimizerState['layers'] = [];
    for (const [i, L] of layers.entries()) {
      const take = (n: number, part: string): Record<string, Float32Array> => {
        const entry = ck.optimizer!.state.get(index++);
        const r: Record<string, Float32Array> = {};
        if (!entry) return r;
        if (entry.step !== undefined) step = Math.max(step, entry.step);
        for (const [k, v] of entry.buffers) {
          if (!v) continue;
          if (v.data.length !== n)
            throw badFile(
              `optimizer state ${quote(k)} of layer ${i} ${part} has ${v.data.length} values, expected ${n}`,
            );
          r[k] = v.data;
        }
        return r;
      };
      const weight = take(L.out * L.in, 'weight');
      const bias = L.hasBias ? take(L.out, 'bias') : null;
      out.push({ weight, bias });
    }
    state = { optimizer: name, step, layers: out };
  }
  return {
    epoch: ck.epoch,
    model: ck.model,
    optimizer: state,
    optimizerConfig: config,
    scheduleSteps,
    scheduler: ck.scheduler,
    run,
    best,
    warnings: ck.warnings,
  };
}

// ---- a training run's file, for the callers of the engine's driver (the CLI, the web app) ---------------------

/** One layer's parameters as the engine gives them (LayerParams): weight out x in, bias out. */
export interface EngineLayer {
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

/**
 * What the engine's training driver hands out after an epoch (@mnist/core-wasm's TrainCheckpoint, structurally):
 * everything needed to continue the run exactly.
 */
export interface EngineRunState {
  /** epochs completed */
  epoch: number;
  layers: readonly EngineLayer[];
  optimizer: EngineOptimizerState | null;
  /** the schedule's full state, or only its position (a run resumed from PyTorch's file) */
  schedule: EngineScheduleState | { steps: number } | null;
  /** the driver's configuration (stored as JSON); its optimizer fills in the param group */
  config: { optimizer: EngineOptimizerConfig };
  history: readonly unknown[];
  best: { epoch: number; accuracy: number; layers: readonly EngineLayer[] } | null;
  sinceBest: number;
}

/**
 * The run description our checkpoints keep in 'mnist_wasm'['run'] besides the optimizer and scheduler state: the
 * driver's configuration and history, and what the network was (settings, dropout) and trained on (the first
 * `images` training images, the validation split included). The same in the CLI's and the web app's files, so
 * either resumes the other's.
 */
export interface RunRecord {
  /** the driver's TrainConfig */
  config: { optimizer: EngineOptimizerConfig } & Record<string, unknown>;
  /** the driver's EpochInfo per completed epoch */
  history: unknown[];
  best: { epoch: number; accuracy: number } | null;
  sinceBest: number;
  settings: { activations: unknown[]; normalize: { mean: number; std: number } | null };
  dropout: number[];
  images: number;
}

/** What a run's checkpoint gives back for resuming: the file as read, our run record, the best epoch's weights. */
export interface TrainingRun extends RunCheckpoint {
  /** the validated run description of our own files; null for a checkpoint made by PyTorch */
  record: RunRecord | null;
  /** model_state_dict per layer (a layer without bias gets zeros, as the engine keeps it) */
  layers: EngineLayer[];
  /** the best epoch's weights (ours, with a validation split), per layer */
  bestLayers: EngineLayer[] | null;
}

/** Each layer's shape and bias, from a state_dict's tensors in order (a weight, then its bias if any). */
export function stateDictLayout(model: readonly PthTensor[]): ParamLayout[] {
  const out: ParamLayout[] = [];
  for (let i = 0; i < model.length; i++) {
    const t = model[i]!;
    if (t.shape.length !== 2) continue;
    const next = model[i + 1];
    const hasBias = next !== undefined && next.shape.length === 1 && next.shape[0] === t.shape[0];
    out.push({ out: t.shape[0]!, in: t.shape[1]!, hasBias });
    if (hasBias) i++;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Our run description, checked field by field: it comes from a file and is never trusted. */
export function parseRunRecord(v: unknown): RunRecord {
  const bad = (what: string) =>
    new PthError(
      'PTH_BAD_CHECKPOINT',
      `its '${ENGINE_KEY}' run description has no valid ${what}`,
      'resume it with the options it was trained with, or start a new run',
    );
  if (!isObject(v)) throw bad('record');
  if (!isObject(v.config) || !isObject(v.config.optimizer) || typeof v.config.optimizer.lr !== 'number')
    throw bad('config');
  if (!Array.isArray(v.history)) throw bad('history');
  if (!isObject(v.settings) || !Array.isArray(v.settings.activations)) throw bad('settings');
  const n = v.settings.normalize;
  if (n !== null && n !== undefined && !(isObject(n) && typeof n.mean === 'number' && typeof n.std === 'number'))
    throw bad('normalization');
  if (typeof v.sinceBest !== 'number') throw bad('sinceBest');
  if (v.best !== null && !(isObject(v.best) && typeof v.best.epoch === 'number' && typeof v.best.accuracy === 'number'))
    throw bad('best epoch');
  if (!Array.isArray(v.dropout) || !v.dropout.every((p) => typeof p === 'number')) throw bad('dropout');
  if (typeof v.images !== 'number' || !Number.isInteger(v.images) || v.images < 1) throw bad('image count');
  return v as unknown as RunRecord;
}

/**
 * The checkpoint file of an epoch of the engine's driver: PyTorch's dict (model, optimizer and scheduler state,
 * epoch) plus our run record. `tensors` names the layers' weights as the model file does (fc1.weight, ...).
 */
export function saveTrainingRun(
  run: EngineRunState,
  tensors: (layers: readonly EngineLayer[]) => SavePthTensor[],
  info: {
    /** layers without a bias (bias=False): no bias tensor and no optimizer state for it */
    biasFree: readonly number[];
    settings: { activations: readonly unknown[]; normalize: { mean: number; std: number } | null };
    dropout: readonly number[];
    images: number;
  },
): Uint8Array {
  const plain = (list: SavePthTensor[]) => list.map((t) => ({ name: t.name, shape: t.shape, data: t.data }));
  const record: RunRecord = {
    config: run.config as RunRecord['config'],
    history: [...run.history],
    best: run.best ? { epoch: run.best.epoch, accuracy: run.best.accuracy } : null,
    sinceBest: run.sinceBest,
    settings: { activations: [...info.settings.activations], normalize: info.settings.normalize ?? null },
    dropout: [...info.dropout],
    images: info.images,
  };
  const full = run.schedule && 'spec' in run.schedule ? run.schedule : null;
  return saveRunCheckpoint({
    epoch: run.epoch,
    model: plain(tensors(run.layers)),
    layout: run.layers.map((L, i) => ({ out: L.out, in: L.in, hasBias: !info.biasFree.includes(i) })),
    optimizer: run.optimizer,
    optimizerConfig: run.config.optimizer,
    // the lr (and OneCycle's momentum) of the next step: what PyTorch's param group holds between steps
    lr: full ? full.lr : run.config.optimizer.lr,
    momentum: full ? (full.momentum ?? null) : null,
    schedule: full,
    run: record,
    best: run.best ? plain(tensors(run.best.layers)) : null,
  });
}

/**
 * Reads a run's checkpoint (ours or PyTorch's) for resuming: readRunCheckpoint with the state_dict's own layout, our
 * run record validated, and the best epoch's weights per layer. `optimizer` as for readRunCheckpoint.
 */
export async function readTrainingRun(bytes: Uint8Array, optimizer?: 'sgd' | 'adam' | 'adamw'): Promise<TrainingRun> {
  const read = await readRunCheckpoint(bytes, stateDictLayout, optimizer);
  const record = read.run === null ? null : parseRunRecord(read.run);
  return {
    ...read,
    record,
    layers: layersOf(read.model),
    bestLayers: read.best ? layersOf(read.best) : null,
  };
}

/** A state_dict's tensors as the engine's layers (stateDictLayout's order). */
function layersOf(tensors: readonly PthTensor[]): EngineLayer[] {
  let at = 0;
  return stateDictLayout(tensors).map((L) => {
    const weight = tensors[at++]!.data;
    const bias = L.hasBias ? tensors[at++]!.data : new Float32Array(L.out);
    return { weight, bias, in: L.in, out: L.out };
  });
}

/**
 * The driver's checkpoint to continue (@mnist/core-wasm's TrainCheckpoint, structurally): our record's
 * configuration, history and best epoch, or for PyTorch's file config null (the caller's options say it, with the
 * file's optimizer from `optimizerConfig`) and the schedule's position only.
 */
export function runStateOf(run: TrainingRun): {
  epoch: number;
  layers: EngineLayer[];
  optimizer: EngineOptimizerState | null;
  schedule: { steps: number } | null;
  config: RunRecord['config'] | null;
  history: unknown[];
  best: { epoch: number; accuracy: number; layers: EngineLayer[] } | null;
  sinceBest: number;
} {
  const r = run.record;
  return {
    epoch: run.epoch ?? 0,
    layers: run.layers,
    optimizer: run.optimizer,
    schedule: run.scheduleSteps === null ? null : { steps: run.scheduleSteps },
    config: r?.config ?? null,
    history: r?.history ?? [],
    best: r?.best && run.bestLayers ? { ...r.best, layers: run.bestLayers } : null,
    sinceBest: r?.sinceBest ?? 0,
  };
}
