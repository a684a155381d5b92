import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, grad, interpret } from '../../src/graph/index.js';
import { llamaInputs } from '../../src/nn/llama.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputs } from '../../src/policy/graph.js';
import { logSigmoid } from '../../src/reward/losses.js';
import { dpoLoss, dpoLossNumber, policyGradientLoss, policyGradientLossNumber, sftLoss, type DpoLossKind } from '../../src/policy/losses.js';
import { buildSequenceBatch } from '../../src/policy/sequences.js';
import { assertClose } from '../helpers/close.js';
import { tinyCharPolicy } from './tiny.js';

test('policy-gradient loss on hand-worked values: token mean of −log π · A over response tokens', () => {
  // rows: logp [[-1, -2, -9], [-0.5, -4, -3]], mask [[1, 1, 0], [0, 1, 1]], A = [2, -1]
  // terms: row 0: 1·2 + 2·2 = 6 (the −9 is masked); row 1: −4·… → −(−4)(−1) = −4, −(−3)(−1) = −3
  // sum = 6 − 7 = −1 over 4 tokens → −0.25
  const logp = [[-1, -2, -9], [-0.5, -4, -3]];
  const mask = [[1, 1, 0], [0, 1, 1]];
  assertClose(policyGradientLossNumber(logp, mask, [2, -1]), -0.25);
  const g = new Graph();
  const lp = g.constant(logp.flat(), [2, 3]);
  const m = g.constant(mask.flat(), [2, 3]);
  const a = g.constant([2, -1], [2]);
  const out = interpret(g, { pg: policyGradientLoss(lp, m, a), sft: sftLoss(lp, m) }, {});
  assertClose(out.pg[0], -0.25);
  // SFT: −(−1 − 2 − 4 − 3)/4 = 2.5
  assertClose(out.sft[0], 2.5);
  // shapes are checked
  assert.throws(() => policyGradientLoss(lp, m, g.constant([1, 2, 3], [3])), /advantages has the wrong shape[\s\S]*expected: \[2\][\s\S]*received: \[3\]/);
  assert.throws(() => sftLoss(lp, g.constant([1, 1], [2])), /mask has the wrong shape/);
});

test('DPO family on hand-worked values (β = 0.1)', () => {
  // policy Σlog π: chosen −2, rejected −5; reference: chosen −3, rejected −4
  // r_c = 0.1·(−2 + 3) = 0.1, r_r = 0.1·(−5 + 4) = −0.1, d = 0.2
  // regular: −log σ(0.2) = log(1 + e^−0.2) = 0.5981389
  // margin m = 2: −log σ(0.2 − 2) = log(1 + e^1.8) = log(7.0496475) = 1.9529776
  // scaled m = 2: 2 · 0.5981389 = 1.1962778
  const want: Record<DpoLossKind, number> = { regular: Math.log1p(Math.exp(-0.2)), margin: Math.log1p(Math.exp(1.8)), scaled: 2 * Math.log1p(Math.exp(-0.2)) };
  assertClose(want.regular, 0.5981389, { rtol: 1e-6 });
  assertClose(want.margin, 1.9529776, { rtol: 1e-6 });
  for (const kind of ['regular', 'margin', 'scaled'] as const) {
    assertClose(dpoLossNumber(kind, 0.1, -2, -5, -3, -4, 2), want[kind], { what: kind });
    const g = new Graph();
    const c = (x: number[]) => g.constant(x, [x.length]);
    // a second pair with d = 0.1·((−1 + 1) − (−1 + 1)) = 0: regular log 2, margin log(1+e^1) (m 1), scaled 1·log 2
    const r = dpoLoss(kind, 0.1, c([-2, -1]), c([-5, -1]), c([-3, -1]), c([-4, -1]), c([2, 1]));
    const out = interpret(g, { loss: r.loss, perPair: r.perPair, rc: r.chosenReward, rr: r.rejectedReward }, {});
    const second = { regular: Math.LN2, margin: Math.log1p(Math.E), scaled: Math.LN2 }[kind];
    assertClose(out.perPair, [want[kind], second], { what: `${kind} per pair` });
    assertClose(out.loss[0], (want[kind] + second) / 2, { what: `${kind} mean` });
    assertClose(out.rc, [0.1, 0], { atol: 1e-12 });
    assertClose(out.rr, [-0.1, 0], { atol: 1e-12 });
  }
  // margin 0 makes margin-DPO regular DPO; scaled with m equals regular counted m times
  assertClose(dpoLossNumber('margin', 0.5, -1, -3, -2, -2, 0), dpoLossNumber('regular', 0.5, -1, -3, -2, -2));
  assertClose(dpoLossNumber('scaled', 0.5, -1, -3, -2, -2, 3), 3 * dpoLossNumber('regular', 0.5, -1, -3, -2, -2));
  // log-sigmoid stays finite at the extremes
  assertClose(logSigmoid(800), 0);
  assertClose(logSigmoid(-800), -800);
  const g0 = new Graph();
  const z = g0.zeros([1]);
  assert.throws(() => dpoLoss('regular', 0, z, z, z, z, z), /DPO beta must be positive[\s\S]*received: 0[\s\S]*fix: use e\.g\. --beta 0\.1/);
  assert.throws(() => dpoLoss('regular', 0.1, z, z, z, z, g0.zeros([2])), /margin has the wrong shape[\s\S]*expected: \[1\]/);
});

test('the policy-gradient loss gradient through a tiny Llama matches central finite differences (float64)', () => {
  const p = tinyCharPolicy(5, 0.3);
  const c = p.config;
  const rows = [
    { prompt: p.codec.encodePrompt('Spell cat.'), response: p.codec.encodeResponse('c-a-t') },
    { prompt: p.codec.encodePrompt('What is 2+2?'), response: p.codec.encodeResponse('4', false) },
  ];
  const batch = buildSequenceBatch(rows, { padId: p.codec.padId });
  const g = new Graph();
  const { params } = llamaInputs(g, c);
  const s = sequenceInputs(g, batch.B, batch.T);
  const adv = g.input('advantages', [batch.B]);
  const loss = policyGradientLoss(policyTokenLogProbs(c, params, s), s.lossMask, adv);
  const names = ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.down_proj.weight', 'model.layers.0.input_layernorm.weight', 'model.norm.weight'];
  const grads = grad(loss, names.map((n) => params.get(n)!));
  const feeds: Record<string, Float64Array | BigInt64Array | Float32Array> = { ...sequenceFeeds(batch), advantages: Float64Array.of(1.5, -0.7) };
  for (const [n, t] of p.weights) feeds[n] = Float64Array.from(t.data);
  const outputs: Record<string, (typeof grads)[number]> = { loss };
  names.forEach((n, i) => (outputs[`d${i}`] = grads[i]));
  const an = interpret(g, outputs, feeds);
  const h = 1e-5;
  names.forEach((n, i) => {
    const w = feeds[n] as Float64Array;
    // three entries per tensor, spread over it
    for (const j of [0, Math.floor(w.length / 2) + 1, w.length - 1]) {
      const keep = w[j];
      w[j] = keep + h;
      const up = interpret(g, { loss }, feeds).loss[0];
      w[j] = keep - h;
      const down = interpret(g, { loss }, feeds).loss[0];
      w[j] = keep;
      assertClose(an[`d${i}`][j], (up - down) / (2 * h), { rtol: 1e-4, atol: 1e-8, what: `d loss / d ${n}[${j}]` });
    }
  });
});
