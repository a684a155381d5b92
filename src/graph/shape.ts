// Static-shape helpers: sizes, strides, axis normalisation, NumPy broadcasting, and the shape
// errors every op raises (they name the op, the argument, what was expected and what was received).
import { UserError } from '../util/errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: strides[i] = prod(shape[i+1:]). */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeError(op: string, arg: string, what: string, expected: string, received: string, fix?: string): UserError {
  return new UserError({
    what: `${op}: ${what}`,
    where: `${op}(${arg})`,
    expected,
    received,
    fix: fix ?? `check the shapes reaching ${op}; print tensor.shape just before the call`,
  });
}

/** Normalise a possibly negative axis for a tensor of `rank` dimensions. */
export function normAxis(op: string, axis: number, rank: number, arg = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw shapeError(op, arg, 'axis out of range', `an integer in [${-rank}, ${rank - 1}]`, String(axis),
      'negative axes count from the end: -1 is the last dimension');
  }
  return axis < 0 ? axis + rank : axis;
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes when they do not broadcast. */
export function broadcastShapes(op: string, a: Shape, b: Shape, argA = 'a', argB = 'b'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw shapeError(op, `${argA}, ${argB}`, `shapes do not broadcast (dimension ${i - n} is ${da} vs ${db})`,
        `${argB} broadcastable to ${fmtShape(a)} (each trailing dimension equal or 1)`, fmtShape(b),
        'reshape or unsqueeze one argument so the dimensions line up, or slice them to equal sizes');
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Axes of `out` along which an input of shape `inp` (right-aligned) was broadcast. */
export function broadcastAxes(inp: Shape, out: Shape): number[] {
  const axes: number[] = [];
  const lead = out.length - inp.length;
  for (let i = 0; i < out.length; i++) {
    if (i < lead) axes.push(i);
    else if (inp[i - lead] === 1 && out[i] !== 1) axes.push(i);
  }
  return axes;
}
