// Element types of graph tensors, their JS typed arrays and their ONNX TensorProto codes.
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

/** The typed array that holds a tensor of each dtype when it crosses into or out of ONNX Runtime. */
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int64', 'int32', 'bool'];

/** onnx.TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, bool: 9, int32: 6, int64: 7, float64: 11 };

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

export function isInteger(d: DType): boolean {
  return d === 'int32' || d === 'int64';
}

export function allocTyped<D extends DType>(dtype: D, n: number): TypedArrayOf[D] {
  switch (dtype) {
    case 'float32': return new Float32Array(n) as TypedArrayOf[D];
    case 'float64': return new Float64Array(n) as TypedArrayOf[D];
    case 'int64': return new BigInt64Array(n) as TypedArrayOf[D];
    case 'int32': return new Int32Array(n) as TypedArrayOf[D];
    case 'bool': return new Uint8Array(n) as TypedArrayOf[D];
  }
  throw new Error(`unknown dtype ${String(dtype)}`);
}

/** The dtype a typed array naturally holds (Uint8Array → bool). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Copy numbers into a typed array of `dtype` (float32 rounds, integers truncate, bool is x != 0). */
export function typedFromNumbers(dtype: DType, values: ArrayLike<number>): TypedArray {
  const n = values.length;
  const out = allocTyped(dtype, n);
  if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(values[i]));
  else if (dtype === 'bool') for (let i = 0; i < n; i++) out[i] = values[i] !== 0 ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < n; i++) out[i] = Math.trunc(values[i]);
  else (out as Float32Array | Float64Array).set(values);
  return out;
}

/** Read any typed array as plain numbers (int64 through Number: exact below 2^53). */
export function numbersFromTyped(a: TypedArray): Float64Array {
  const out = new Float64Array(a.length);
  if (a instanceof BigInt64Array) for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  else out.set(a);
  return out;
}
