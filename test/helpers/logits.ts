// Reading back what the Python peers wrote, and a model's logits through the engine: the two
// pieces every LoRA parity test (nn, policy, the CLI trial) compares with.
import { readFileSync } from 'node:fs';
import { Graph } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import type { LlamaConfig } from '../../src/nn/config.js';
import type { LlamaWeights } from '../../src/nn/weights.js';
import { llamaHidden, llamaInitializers, lmLogits, padBatch } from '../../src/nn/llama.js';
import { loraScale, type LoraConfig } from '../../src/nn/lora.js';

/** A raw little-endian float32 file (numpy's tofile) as a Float32Array. */
export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Logits [B, T, V] of `w` through the engine (right-padded rows), with the adapter (un-merged) when given. */
export async function engineLogits(c: LlamaConfig, w: LlamaWeights, rows: number[][], pad: number, adapter?: { lora: LoraConfig; weights: LlamaWeights }): Promise<Float32Array> {
  const pb = padBatch(rows, { side: 'right', padId: pad });
  const g = new Graph();
  const ids = g.input('ids', [pb.B, pb.T], 'int64');
  const positions = g.input('positions', [pb.B, pb.T], 'int64');
  const mask = g.input('mask', [pb.B, pb.T]);
  const p = llamaInitializers(g, c, w);
  const lora = adapter ? { scale: loraScale(adapter.lora), params: new Map([...adapter.weights].map(([n, t]) => [n, g.initializer(`lora.${n}`, t.data, t.shape)])) } : undefined;
  const exe = await compile(g, { inputs: [ids, positions, mask], outputs: { logits: lmLogits(c, p, llamaHidden(c, p, { ids, positions, attentionMask: mask }, lora)) }, threads: 2 });
  const out = (await exe.run({ ids: pb.ids, positions: pb.positions, mask: pb.mask })).logits as Float32Array;
  await exe.release();
  return out;
}
