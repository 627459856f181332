// Learning-rate schedules as torch.optim.lr_scheduler computes them, step by step and in float64 like PyTorch's
// Python floats: StepLR, CosineAnnealingLR (its recursive "chainable" form, not the closed form, so the same
// rounding), OneCycleLR (with its momentum / beta1 cycle) and a LinearLR warm-up in front of step or cosine (as
// SequentialLR([LinearLR, main], milestones=[warmup]) does). One Schedule object is one PyTorch scheduler: `lr` is
// what param_groups[0]['lr'] holds before the next optimizer step, step() is scheduler.step().

import { CoreError } from './errors.js';

export type ScheduleKind = 'constant' | 'step' | 'cosine' | 'onecycle';

export interface ScheduleSpec {
  kind: ScheduleKind;
  /** step: StepLR's step_size and gamma (defaults 1 and 0.1). */
  stepSize?: number;
  gamma?: number;
  /** cosine: T_max (steps of this schedule after the warm-up); onecycle: total_steps. */
  total?: number;
  /** cosine: eta_min (default 0). */
  minLr?: number;
  /** onecycle: max_lr (default: the base lr), pct_start 0.3, anneal 'cos', div_factor 25, final_div_factor 1e4. */
  maxLr?: number;
  pctStart?: number;
  anneal?: 'cos' | 'linear';
  divFactor?: number;
  finalDivFactor?: number;
  /** onecycle: cycle SGD's momentum / Adam's beta1 between maxMomentum and baseMomentum (default true, 0.85, 0.95). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** step and cosine: a LinearLR warm-up of this many steps from base lr x warmupStartFactor (default 1/3) first. */
  warmup?: number;
  warmupStartFactor?: number;
}

/** What a schedule's state is in a checkpoint: enough to continue it exactly. */
export interface ScheduleState {
  spec: ScheduleSpec;
  baseLr: number;
  /** scheduler.step() calls so far. */
  steps: number;
  lr: number;
  /** onecycle's momentum / beta1 for the next step (null: the optimizer's own). */
  momentum?: number | null;
}

function bad(problem: string, hint: string): CoreError {
  return new CoreError('CORE_BAD_ARGUMENT', `schedule: ${problem}`, hint);
}

function check(name: string, v: unknown, ok: (v: number) => boolean, range: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
    throw bad(`${name} must be ${range}, got ${String(v)}`, `pass ${name} ${range}`);
  return v;
}

const intAtLeast = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

/** Python's a % m for m > 0 (never negative). */
const pmod = (a: number, m: number) => ((a % m) + m) % m;

export class Schedule {
  readonly spec: Readonly<Required<Omit<ScheduleSpec, 'total' | 'maxLr'>> & { total: number; maxLr: number }>;
  readonly baseLr: number;
  /** The lr of the next optimizer step. */
  lr: number;
  /** onecycle with cycleMomentum: SGD's momentum / Adam's beta1 for the next step; else null (the optimizer's own). */
  momentum: number | null = null;
  #steps = 0; // scheduler.step() calls so far
  #mainEpoch = 0; // the main scheduler's last_epoch (after the warm-up)

  constructor(spec: ScheduleSpec, baseLr: number) {
    const kind = spec?.kind;
    if (!['constant', 'step', 'cosine', 'onecycle'].includes(kind)) {
      throw bad(`unknown kind ${JSON.stringify(kind)}`, 'use constant, step, cosine or onecycle');
    }
    check('the base lr', baseLr, (v) => v >= 0, 'a number >= 0');
    const total = spec.total ?? 0;
    if (kind === 'cosine' || kind === 'onecycle') check('total', total, intAtLeast(1), 'an integer >= 1');
    const s = {
      kind,
      stepSize: check('stepSize', spec.stepSize ?? 1, intAtLeast(1), 'an integer >= 1'),
      gamma: check('gamma', spec.gamma ?? 0.1, (v) => v >= 0, 'a number >= 0'),
      total,
      minLr: check('minLr', spec.minLr ?? 0, (v) => v >= 0, 'a number >= 0'),
      maxLr: check('maxLr', spec.maxLr ?? baseLr, (v) => v >= 0, 'a number >= 0'),
      pctStart: check('pctStart', spec.pctStart ?? 0.3, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
      anneal: spec.anneal ?? 'cos',
      divFactor: check('divFactor', spec.divFactor ?? 25, (v) => v > 0, 'a number > 0'),
      finalDivFactor: check('finalDivFactor', spec.finalDivFactor ?? 1e4, (v) => v > 0, 'a number > 0'),
      cycleMomentum: spec.cycleMomentum ?? true,
      baseMomentum: check('baseMomentum', spec.baseMomentum ?? 0.85, (v) => v >= 0 && v < 1, 'in [0, 1)'),
      maxMomentum: check('maxMomentum', spec.maxMomentum ?? 0.95, (v) => v >= 0 && v < 1, 'in [0, 1)'),
      warmup: check('warmup', spec.warmup ?? 0, intAtLeast(0), 'an integer >= 0'),
      warmupStartFactor: check(
        'warmupStartFactor',
        spec.warmupStartFactor ?? 1 / 3,
        (v) => v > 0 && v <= 1,
        'in (0, 1]',
      ),
    };
    if (s.anneal !== 'cos' && s.anneal !== 'linear')
      throw bad(`anneal must be 'cos' or 'linear'`, "use 'cos' (PyTorch's default) or 'linear'");
    if (kind === 'onecycle' && s.warmup > 0) {
      throw bad(
        'onecycle has its own warm-up (pctStart); warmup applies to step and cosine',
        'drop warmup or use cosine',
      );
    }
    this.spec = Object.freeze(s);
    this.baseLr = baseLr;
    this.lr = baseLr;
    if (kind === 'onecycle') this.#onecycle(0);
    else if (s.warmup > 0) this.lr = baseLr * s.warmupStartFactor; // LinearLR's first lr
  }

  /** scheduler.step(): advances to the lr of the next optimizer step. */
  step(): void {
    const s = this.spec;
    const t = ++this.#steps;
    if (s.kind === 'onecycle') {
      if (t > s.total) {
        throw bad(
          `onecycle was stepped ${t} times, more than its total of ${s.total}`,
          'set total to the number of optimizer steps',
        );
      }
      this.#onecycle(t);
      return;
    }
    if (t < s.warmup) {
      // LinearLR's chainable form, end_factor 1
      const f = s.warmupStartFactor;
      this.lr *= 1 + (1 - f) / (s.warmup * f + (t - 1) * (1 - f));
      return;
    }
    if (s.warmup > 0 && t === s.warmup) {
      // SequentialLR's milestone: the main scheduler restarts with step(0), its closed form at epoch 0 = the base lr
      this.#mainEpoch = 0;
      this.lr = this.baseLr;
      return;
    }
    const e = ++this.#mainEpoch;
    if (s.kind === 'step') {
      if (e % s.stepSize === 0) this.lr *= s.gamma;
    } else if (s.kind === 'cosine') {
      const T = s.total,
        eta = s.minLr;
      if (pmod(e - 1 - T, 2 * T) === 0) this.lr += ((this.baseLr - eta) * (1 - Math.cos(Math.PI / T))) / 2;
      else
        this.lr = ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (this.lr - eta) + eta;
    }
  }

  /** Steps taken so far (scheduler.step() calls). */
  get steps(): number {
    return this.#steps;
  }

  state(): ScheduleState {
    return { spec: { ...this.spec }, baseLr: this.baseLr, steps: this.#steps, lr: this.lr, momentum: this.momentum };
  }

  /** A schedule continued from a saved state: the same lrs from here on as the uninterrupted one. */
  static restore(state: ScheduleState): Schedule {
    const s = new Schedule(state.spec, state.baseLr);
    s.advance(state.steps);
    return s;
  }

  /**
   * Takes `steps` steps at once (a resumed run's position): replaying them keeps the recursive forms' rounding
   * exactly, and a run has at most a few hundred thousand.
   */
  advance(steps: number): void {
    check('steps', steps, intAtLeast(0), 'an integer >= 0');
    for (let i = 0; i < steps; i++) this.step();
  }

  /** OneCycleLR.get_lr at step_num t (two phases; three_phase false). */
  #onecycle(t: number): void {
    const s = this.spec;
    const initial = s.maxLr / s.divFactor;
    const min = initial / s.finalDivFactor;
    const phases = [
      { end: s.pctStart * s.total - 1, lr: [initial, s.maxLr], m: [s.maxMomentum, s.baseMomentum] },
      { end: s.total - 1, lr: [s.maxLr, min], m: [s.baseMomentum, s.maxMomentum] },
    ];
    const anneal =
      s.anneal === 'cos'
        ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
        : (a: number, b: number, pct: number) => (b - a) * pct + a;
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const p = phases[i];
      if (t <= p.end || i === phases.length - 1) {
        const pct = (t - start) / (p.end - start);
        this.lr = anneal(p.lr[0], p.lr[1], pct);
        this.momentum = s.cycleMomentum ? anneal(p.m[0], p.m[1], pct) : null;
        return;
      }
      start = p.end;
    }
  }
}
