// steer import reads what transformers writes for a big model: a sharded checkpoint
// (model.safetensors.index.json) in bfloat16 with a LlamaForSequenceClassification head. The
// reference: transformers' own scores of the same checkpoint (upcast to float32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { venvPython } from '../helpers/python.js';
import { exportJob } from '../../src/scale/export.js';
import { importJobOutput } from '../../src/scale/import.js';
import { scoreRewardModel } from '../../src/reward/score.js';
import { initToyPolicy, savePolicy } from '../../src/policy/model.js';
import { formatExample } from '../../src/text/char.js';

test('import: a sharded bf16 LlamaForSequenceClassification written by transformers scores as transformers scores it', { timeout: 300_000 }, async (t) => {
  const py = venvPython(t, ['transformers']);
  if (!py) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-import-'));
  try {
    const base = join(dir, 'base');
    savePolicy(base, initToyPolicy(2, { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositionEmbeddings: 128 }));
    writeFileSync(join(dir, 'pairs.jsonl'), JSON.stringify({ prompt: 'Spell cat.', chosen: 'c-a-t', rejected: 'c-a-t-s', margin: 1 }) + '\n');
    const job = await exportJob({ engine: 'trl', stage: 'rm', loss: 'bt', model: base, pairs: [join(dir, 'pairs.jsonl')], maxLength: 64, out: join(dir, 'job'), log: () => {} }); // longer than every text scored below (steer keeps a longer text's last maxLength tokens)
    const texts = [formatExample('Spell cat.', 'c-a-t'), formatExample('Spell cat.', 'c-a-t-s'), formatExample('How many r in strawberry?', 'It is 3.')];
    const script = `import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
torch.manual_seed(0)
job, out = sys.argv[1], sys.argv[2]
m = AutoModelForSequenceClassification.from_pretrained(job + "/model", num_labels=1)
m.config.pad_token_id = 0
with torch.no_grad():
    for p in m.parameters(): p.add_(0.05 * torch.randn_like(p))  # not the exported values
m = m.to(torch.bfloat16)
m.save_pretrained(out, max_shard_size="40KB")
m = AutoModelForSequenceClassification.from_pretrained(out, dtype=torch.float32).eval()
tok = AutoTokenizer.from_pretrained(job + "/model")
with torch.no_grad():
    print(json.dumps([m(input_ids=torch.tensor([tok(t)["input_ids"]])).logits[0, 0].item() for t in json.loads(sys.argv[3])]))`;
    const r = spawnSync(py, ['-c', script, job.dir, join(dir, 'out', 'model'), JSON.stringify(texts)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const hf = JSON.parse(r.stdout.trim().split('\n').pop()!) as number[];
    const files = readdirSync(join(dir, 'out', 'model'));
    assert.ok(existsSync(join(dir, 'out', 'model', 'model.safetensors.index.json')), `sharded: ${files.join(', ')}`);
    assert.ok(files.filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f)).length > 1);
    const rm = importJobOutput({ job: job.dir, from: join(dir, 'out'), out: join(dir, 'rm') }).dir;
    const ours = await scoreRewardModel(rm, [
      { prompt: 'Spell cat.', response: 'c-a-t' },
      { prompt: 'Spell cat.', response: 'c-a-t-s' },
      { prompt: 'How many r in strawberry?', response: 'It is 3.' },
    ]);
    ours.forEach((s, i) => assert.ok(Math.abs(s.reward - hf[i]) < 1e-4, `score ${i}: steer ${s.reward}, transformers ${hf[i]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
