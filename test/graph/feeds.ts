// Typed feeds for test cases (the same arrays go to ONNX Runtime and to the interpreter).
import { type DType, type TypedArray, typedFromNumbers } from '../../src/graph/index.js';
import type { Tensor } from '../../src/graph/index.js';

export function typedFeeds(ins: readonly Tensor[], values: readonly number[][]): Record<string, TypedArray> {
  const feeds: Record<string, TypedArray> = {};
  ins.forEach((t, i) => (feeds[t.attrs.name as string] = typedFromNumbers(t.dtype as DType, values[i])));
  return feeds;
}

export function toNumbers(a: ArrayLike<number | bigint>): number[] {
  return Array.from(a, Number);
}
