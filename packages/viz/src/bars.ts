// Bar figures of signed values, drawn from 0 by one builder: logitBars (one score per class, the highest highlighted
// as in probabilityBars) and signedBars (e.g. one unit's outgoing weights or contributions: positive red, negative blue).

import * as Plot from '@observablehq/plot';
import { ACCENT_COLOR, ACCENT_LIGHT_COLOR, NEGATIVE_COLOR, POSITIVE_COLOR } from './color.js';
import type { FigureOptions, FigureSvg } from './dom.js';
import { invalidInput, invalidOption, warn } from './errors.js';
import {
  asSvg,
  checkArray,
  checkClassNames,
  checkHeight,
  describeFigure,
  describeNumber,
  largest,
  resolveDocument,
  resolveWidth,
  stack,
} from './figure.js';

interface BarLayout {
  figure: string;
  /** The figure's accessible name and what it shows, in words (describeFigure). */
  name: string;
  description: string;
  names: string[];
  fill: (i: number) => string;
  horizontal: boolean;
  width: number;
  height: number;
  marginLeft: number;
  marginBottom?: number;
  valueLabel: string | null;
  nameLabel: string | null;
}

/** One bar per value from 0, named on a band axis, with hover titles; non-finite values are left out (one warning). */
function valueBars(values: ArrayLike<number>, layout: BarLayout, options: FigureOptions): FigureSvg {
  const document = resolveDocument(options);
  const indexes = Array.from({ length: values.length }, (_, i) => i);
  const finite = indexes.filter((i) => Number.isFinite(values[i]));
  if (finite.length < values.length)
    warn(`${layout.figure}: ${values.length - finite.length} non-finite values not drawn`);
  const { names, fill } = layout;
  const nameAxis = {
    type: 'band' as const,
    domain: indexes,
    tickFormat: (i: number) => names[i],
    label: layout.nameLabel,
    tickSize: 0,
  };
  const valueAxis = { label: layout.valueLabel, grid: true, ...(finite.length ? {} : { domain: [-1, 1] }) };
  const title = (i: number) => `${names[i]}: ${values[i].toFixed(3)}`;
  const value = (i: number) => values[i];
  const index = (i: number) => i;
  const plot = asSvg(
    Plot.plot({
      document,
      width: layout.width,
      height: layout.height,
      marginLeft: layout.marginLeft,
      marginBottom: layout.marginBottom,
      ...(layout.horizontal
        ? {
            x: valueAxis,
            y: nameAxis,
            marks: [Plot.barX(finite, { y: index, x: value, fill, title }), Plot.ruleX([0])],
          }
        : {
            x: nameAxis,
            y: valueAxis,
            marks: [Plot.barY(finite, { x: index, y: value, fill, title }), Plot.ruleY([0])],
          }),
    }),
  );
  const svg = stack(document, [{ svg: plot }], { title: options.title, subtitle: options.subtitle });
  describeFigure(document, svg, options.title ?? layout.name, layout.description);
  return svg;
}

/** "name value" for each value (at most `limit`, the largest |value| first when there are more), for descriptions. */
function listValues(values: ArrayLike<number>, names: string[], limit = 12): string {
  const order = Array.from({ length: values.length }, (_, i) => i);
  const shown =
    values.length <= limit
      ? order
      : order.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b).slice(0, limit);
  const list = shown.map((i) => `${names[i]} ${describeNumber(values[i])}`).join(', ');
  return values.length <= limit ? list : `${list} (the ${limit} largest in size of ${values.length})`;
}

function checkValues(name: string, values: ArrayLike<number>, expected: string): void {
  checkArray(name, values);
  if (values.length === 0) throw invalidInput(`invalid ${name}: empty (expected ${expected})`);
}

export interface LogitBarsOptions extends FigureOptions {
  /** Class names; default "0".."9". */
  classNames?: string[];
  /** Figure height; default 150. */
  height?: number;
}

/** Logits (the scores before softmax, any sign) as bars from 0, the highest dark and the others light. */
export function logitBars(logits: ArrayLike<number>, options: LogitBarsOptions = {}): FigureSvg {
  checkValues('logits', logits, 'one value per class');
  const best = largest(logits);
  const names = checkClassNames(logits.length, options.classNames);
  return valueBars(
    logits,
    {
      figure: 'logitBars',
      name: 'logits',
      description: `The score of each class before softmax; the highest is ${names[best]}: ${listValues(logits, names)}.`,
      names,
      fill: (i) => (i === best ? ACCENT_COLOR : ACCENT_LIGHT_COLOR),
      horizontal: false,
      width: resolveWidth(options, 220),
      height: checkHeight('height', options.height ?? 150),
      marginLeft: 30,
      marginBottom: 30,
      valueLabel: 'logit',
      nameLabel: 'class',
    },
    options,
  );
}

export interface SignedBarsOptions extends FigureOptions {
  /** One name per value, on the axis and in the hover titles; default "0", "1", .... */
  names?: string[];
  /** The value axis label, e.g. "W2[·, 7]"; default none. */
  label?: string;
  /** The names axis label, e.g. "class"; default none. */
  nameLabel?: string;
  /** One row per value, bars along x (for many values or long names); default one column per value. */
  horizontal?: boolean;
  /** Figure height; default 150, or 24 px per row + 40 when horizontal. */
  height?: number;
}

/** Signed values as bars from 0, positive red and negative blue (the weight colours). */
export function signedBars(values: ArrayLike<number>, options: SignedBarsOptions = {}): FigureSvg {
  checkValues('values', values, 'at least one value');
  const n = values.length;
  const names = options.names ?? Array.from({ length: n }, (_, i) => String(i));
  if (names.length !== n) throw invalidOption(`invalid names: expected ${n} (one per value), got ${names.length}`);
  const horizontal = options.horizontal ?? false;
  return valueBars(
    values,
    {
      figure: 'signedBars',
      name: options.label ?? 'signed values',
      description:
        `${options.label ?? 'Values'}${options.nameLabel ? ` by ${options.nameLabel}` : ''}, positive red, ` +
        `negative blue: ${listValues(values, names)}.`,
      names,
      fill: (i) => (values[i] >= 0 ? POSITIVE_COLOR : NEGATIVE_COLOR),
      horizontal,
      width: resolveWidth(options, horizontal ? 560 : 300),
      height: checkHeight('height', options.height ?? (horizontal ? 24 * n + 40 : 150)),
      marginLeft: horizontal ? 60 : 40,
      valueLabel: options.label ?? null,
      nameLabel: options.nameLabel ?? null,
    },
    options,
  );
}
