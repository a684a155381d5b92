import { test } from 'node:test';
import { assertClose } from '../helpers/close.js';
import { ropeInverseFrequencies, ropeTables } from '../../src/nn/rope.js';

test('plain RoPE: inv_freq_j = θ^(−2j/hd)', () => {
  // hd 4, θ 10000: j=0 → 1, j=1 → 10000^(-1/2) = 0.01
  assertClose(ropeInverseFrequencies({ headDim: 4, ropeTheta: 10000, ropeScaling: null }), [1, 0.01]);
  const { cos, sin } = ropeTables({ headDim: 4, ropeTheta: 10000, ropeScaling: null }, 3);
  // position 2: angles 2 and 0.02
  assertClose(cos.subarray(4, 6), [Math.cos(2), Math.cos(0.02)], { rtol: 1e-7 });
  assertClose(sin.subarray(4, 6), [Math.sin(2), Math.sin(0.02)], { rtol: 1e-7 });
  assertClose(cos.subarray(0, 2), [1, 1]);
});

test('Llama 3.1 scaling: high frequencies kept, low divided by factor, the middle band blended', () => {
  // hd 8, θ 100: inv = [1, 100^-0.25, 100^-0.5, 100^-0.75] = [1, 0.316228, 0.1, 0.031623];
  // wavelengths 2π/inv = [6.283, 19.87, 62.83, 198.7]. L = 64, low 1, high 4 → bands:
  // λ < 16 kept; λ > 64 → /8; 16 ≤ λ ≤ 64 → s = (64/λ − 1)/3, inv' = (1 − s)·inv/8 + s·inv.
  const inv = ropeInverseFrequencies({ headDim: 8, ropeTheta: 100, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } });
  const s1 = (64 / ((2 * Math.PI) / 100 ** -0.25) - 1) / 3; // (3.2210 − 1)/3 = 0.74033
  const s2 = (64 / ((2 * Math.PI) / 0.1) - 1) / 3; // (1.01859 − 1)/3 = 0.0061975
  assertClose(inv, [1, (1 - s1) * (100 ** -0.25 / 8) + s1 * 100 ** -0.25, (1 - s2) * (0.1 / 8) + s2 * 0.1, 100 ** -0.75 / 8], { rtol: 1e-12 });
  assertClose([s1, s2], [0.74033, 0.0061975], { rtol: 1e-4 });
});
