import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { llamaInputs, llamaFeeds } from '../../src/nn/llama.js';
import { referenceLogits } from '../../src/nn/reference.js';
import { policyTokenLogProbs, sequenceFeeds, sequenceInputList, sequenceInputs } from '../../src/policy/graph.js';
import { sftLoss } from '../../src/policy/losses.js';
import { buildSequenceBatch, responseValues } from '../../src/policy/sequences.js';
import { lengthBucket } from '../../src/train/batches.js';
import { assertClose } from '../helpers/close.js';
import { tinyCharPolicy } from './tiny.js';

test('the loss mask covers exactly the response targets (stop token included), never prompt or padding', () => {
  // row 0: prompt [1, 7, 8], response [20, 21, 2] → seq 1 7 8 20 21 2, T = 8 (two pads)
  // targets: t0→7 t1→8 t2→20 t3→21 t4→2; response targets are t2, t3, t4
  // row 1: prompt [1, 9], response [30] → seq 1 9 30; response target t1 (→30)
  const b = buildSequenceBatch([{ prompt: [1, 7, 8], response: [20, 21, 2] }, { prompt: [1, 9], response: [30] }], { padId: 0, T: 8 });
  assert.deepEqual(Array.from(b.lossMask), [0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(b.targets, Number), [7, 8, 20, 21, 2, 0, 0, 0, 9, 30, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(b.attention), [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(b.ids, Number), [1, 7, 8, 20, 21, 2, 0, 0, 1, 9, 30, 0, 0, 0, 0, 0]);
  assert.deepEqual(b.responseStart, [2, 1]);
  assert.deepEqual(b.responseLength, [3, 1]);
  assert.deepEqual(Array.from(responseValues(Array.from({ length: 16 }, (_, i) => i), b, 0)), [2, 3, 4]);
  assert.equal(lengthBucket(17, 16, 96), 32);
  assert.equal(lengthBucket(90, 16, 96), 96);
});

test('SFT loss through the model = mean NLL of the response tokens only (plain reference model)', async () => {
  const p = tinyCharPolicy(3);
  const c = p.config;
  const rows = [
    { prompt: p.codec.encodePrompt('How many r in strawberry?'), response: p.codec.encodeResponse('3') },
    { prompt: p.codec.encodePrompt('Spell cat.'), response: p.codec.encodeResponse('c-a-t') },
  ];
  const batch = buildSequenceBatch(rows, { padId: p.codec.padId, T: 48 });
  const g = new Graph();
  const { inputs, params } = llamaInputs(g, c);
  const s = sequenceInputs(g, batch.B, batch.T);
  const loss = sftLoss(policyTokenLogProbs(c, params, s), s.lossMask);
  const exe = await compile(g, { inputs: [...inputs, ...sequenceInputList(s)], outputs: { loss }, threads: 1 });
  const got = Number((await exe.run({ ...llamaFeeds(c, p.weights), ...sequenceFeeds(batch) })).loss[0]);
  await exe.release();
  // independent: the plain-loop model on each unpadded sequence, −log softmax at the response targets
  const nll = (seq: number[], from: number) => {
    const V = c.vocabSize;
    const logits = referenceLogits(c, p.weights, seq);
    const out: number[] = [];
    for (let t = from; t + 1 < seq.length; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
      out.push(lse - row[seq[t + 1]]);
    }
    return out;
  };
  const responseNll = rows.flatMap((r) => nll([...r.prompt, ...r.response], r.prompt.length - 1));
  // '3<eos>' is 2 tokens and 'c-a-t<eos>' is 6: the loss averages those 8 token NLLs
  assert.equal(responseNll.length, 8);
  assertClose(got, responseNll.reduce((a, b) => a + b, 0) / 8, { rtol: 1e-4, what: 'SFT loss' });
  // the same average taken over every next-token (prompt included) is a different number: a loss
  // that let prompt tokens in would fail the assertion above
  const allNll = rows.flatMap((r) => nll([...r.prompt, ...r.response], 0));
  assert.ok(Math.abs(allNll.reduce((a, b) => a + b, 0) / allNll.length - got) > 1e-3);
});

test('a sequence longer than T and an empty prompt are clear errors', () => {
  assert.throws(() => buildSequenceBatch([{ prompt: [1, 2, 3], response: [4, 5] }], { padId: 0, T: 4 }), /example 0 has 5 tokens[\s\S]*expected: at most T = 4 tokens[\s\S]*3 prompt \+ 2 response tokens[\s\S]*fix: raise the maximum length/);
  assert.throws(() => buildSequenceBatch([{ prompt: [], response: [4] }], { padId: 0 }), /example 0 has an empty prompt[\s\S]*fix: encode prompts with the policy codec/);
  assert.throws(() => buildSequenceBatch([], { padId: 0 }), /an empty batch/);
});
