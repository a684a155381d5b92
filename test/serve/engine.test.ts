// The decode engine's admission: a burst of requests is prefilled together, in runs of at most 4,096
// padded prompt tokens, and every request gets the text it gets alone (greedy, one request at a time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../helpers/shared.js';
import { loadPolicy, type PolicyModel } from '../../src/policy/model.js';
import { DecodeEngine, type CompletionJob, type EngineEvent } from '../../src/serve/engine.js';
import { SlotBatch } from '../../src/nn/generate.js';

/** Each job's text from an engine of `maxBatch` rows, all submitted at once. */
async function runAll(policy: PolicyModel, maxBatch: number, jobs: CompletionJob[]): Promise<Map<string, string>> {
  const text = new Map<string, string>();
  let left = jobs.length;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const engine = new DecodeEngine(policy, (e: EngineEvent) => {
    if (e.type === 'delta') text.set(e.id, (text.get(e.id) ?? '') + e.text);
    else if (e.type === 'error') throw new Error(e.message);
    else if (e.type === 'finish' && --left === 0) done();
  }, { maxBatch, threads: 2 });
  void engine.start();
  for (const j of jobs) engine.submit(j);
  await finished;
  await engine.close();
  return text;
}

test('stories260K: a burst of long prompts is prefilled in runs of ≤ 4,096 padded tokens, each request decoding as alone', async (t) => {
  const model = sharedFile(t, 'data/stories260k/stories260K.bin');
  const tok = sharedFile(t, 'data/stories260k/tok512.bin');
  if (!model || !tok) return;
  const policy = loadPolicy(model, { tokenizer: tok });
  const story = 'Once upon a time there was a little girl named Lily who loved to play in the park with her red ball. ';
  // prompts of ≈ 200–330 tokens: padded to 512, so at most 8 share a prefill run
  const jobs: CompletionJob[] = Array.from({ length: 12 }, (_, i) => ({ id: `r${i}`, input: { text: story.repeat(7 + (i % 4)) + `Day ${i}:` }, n: 1, maxTokens: 6, temperature: 0, topP: 1, seed: null, stop: [], topLogprobs: null }));
  const runs: { prompts: number; B: number; S: number }[] = [];
  const addMany = SlotBatch.prototype.addMany;
  SlotBatch.prototype.addMany = function (this: SlotBatch, prompts: readonly (readonly number[])[]) {
    runs.push({ prompts: prompts.length, ...this.prefillShape(prompts.length, Math.max(...prompts.map((p) => p.length))) });
    return addMany.call(this, prompts);
  };
  try {
    const together = await runAll(policy, 16, jobs);
    const burst = runs.splice(0);
    assert.equal(burst.reduce((a, r) => a + r.prompts, 0), 12);
    assert.ok(burst.length >= 2 && burst.some((r) => r.prompts > 1), `prefill runs ${JSON.stringify(burst)}: several prompts per run, split by the budget`);
    for (const r of burst) assert.ok(r.B * r.S <= 4096 || r.prompts === 1, `a prefill run of ${r.B} × ${r.S} padded tokens`);
    const alone = await runAll(policy, 1, jobs);
    assert.ok(runs.every((r) => r.prompts === 1));
    for (const j of jobs) assert.equal(together.get(j.id), alone.get(j.id), `request ${j.id}`);
    assert.ok(new Set(jobs.map((j) => alone.get(j.id))).size > 1, 'the requests differ (the comparison is not vacuous)');
  } finally {
    SlotBatch.prototype.addMany = addMany;
  }
});
