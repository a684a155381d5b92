// The README's path from the toy recipe to a cluster, run here on a real local Ray cluster with TRL:
//   export → launch → import, for a Scaled-BT reward model and an RLOO policy whose reward comes from
//   a steer reward model over HTTP. Checked against independent references:
//   - the imported RM's held-out pair accuracy is within a few points of the same run in-process;
//   - transformers' own scores of the engine's checkpoint equal steer's scores of the imported model,
//     and transformers' tokenizer gives the ids steer exported (the HF char tokenizer is steer's);
//   - transformers' greedy continuation of the engine's policy equals `steer generate`'s;
//   - a failing job's exit code comes back through `steer launch`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { venvPython } from '../helpers/python.js';
import { repoRoot } from '../helpers/shared.js';
import { startRayCluster } from './ray-cluster.js';
import { startRewardServer } from './reward-server.js';
import { toySplit } from '../reward/helpers.js';
import { exportJob } from '../../src/scale/export.js';
import { importJobOutput } from '../../src/scale/import.js';
import { evaluatePairs } from '../../src/reward/evaluate.js';
import { scoreRewardModel } from '../../src/reward/score.js';
import { initToyPolicy, savePolicy } from '../../src/policy/model.js';
import { formatExample, formatPrompt } from '../../src/text/char.js';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

/** `steer …` from source without blocking this process (the reward server must keep serving). */
function steer(args: string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/bin.ts'), ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, p);
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('Ray + TRL: export → launch → import for Scaled BT and RLOO, failed jobs exit with their code', { timeout: 600_000 }, async (t) => {
  const py = venvPython(t, ['ray', 'trl']);
  if (!py) return;
  const dir = mkdtempSync(join(tmpdir(), 'steer-ray-trl-'));
  const ray = await startRayCluster();
  try {
    // a tiny random Llama in HF layout (char tokenizer) and a few hundred toy-world pairs
    const base = join(dir, 'base');
    savePolicy(base, initToyPolicy(1, { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositionEmbeddings: 256 }));
    const { train, val } = toySplit(500);
    const row = (p: (typeof train)[number]) => ({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected, margin: p.margin });
    writeFileSync(join(dir, 'train.jsonl'), jsonl(train.map(row)));
    writeFileSync(join(dir, 'val.jsonl'), jsonl(val.map(row)));
    assert.ok(train.length >= 200 && val.length >= 80, `${train.length} / ${val.length} pairs`);

    await t.test('a failing job: its log streams, its exit code is steer launch\'s', async () => {
      const job = await exportJob({ engine: 'trl', stage: 'rm', model: base, pairs: [join(dir, 'val.jsonl')], out: join(dir, 'job-fail'), log: () => {} });
      const m = JSON.parse(readFileSync(join(job.dir, 'steer-job.json'), 'utf8'));
      m.entrypoint = `python -c "import sys; print('job says hi'); sys.exit(3)"`;
      writeFileSync(join(job.dir, 'steer-job.json'), JSON.stringify(m));
      const r = await steer(['launch', job.dir, '--ray', ray.address, '--submission-id', 'steer-test-fail']);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stdout, /job says hi/);
      assert.match(r.stderr, /job steer-test-fail FAILED/);
      const list = await steer(['jobs', 'list', '--ray', ray.address]);
      assert.match(list.stdout, /steer-test-fail\s+FAILED/);
    });

    await t.test('Ctrl-C on steer launch stops the job on the cluster (exit 130, status STOPPED)', async () => {
      const job = await exportJob({ engine: 'trl', stage: 'rm', model: base, pairs: [join(dir, 'val.jsonl')], out: join(dir, 'job-stop'), log: () => {} });
      const m = JSON.parse(readFileSync(join(job.dir, 'steer-job.json'), 'utf8'));
      m.entrypoint = `python -c "import time; print('sleeping', flush=True); time.sleep(300)"`;
      writeFileSync(join(job.dir, 'steer-job.json'), JSON.stringify(m));
      let sent = false;
      const r = await steer(['launch', job.dir, '--ray', ray.address, '--submission-id', 'steer-test-stop'], (out, child) => {
        if (!sent && out.includes('sleeping')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      assert.equal(r.status, 130, r.stderr);
      assert.match(r.stderr, /stopping job steer-test-stop/);
      const logs = await steer(['jobs', 'logs', 'steer-test-stop', '--ray', ray.address]);
      assert.match(logs.stdout, /sleeping/);
      const list = await steer(['jobs', 'list', '--ray', ray.address]);
      assert.match(list.stdout, /steer-test-stop\s+STOPPED/);
    });

    // same data, model, optimiser and schedule, in-process and on TRL through Ray — concurrently
    const hyper = ['--epochs', '4', '--lr', '3e-3', '--batch-size', '16'];
    const inProcess = steer(['rm', 'train', '--loss', 'scaled-bt', '--init', base, '--pairs', join(dir, 'train.jsonl'), ...hyper, '--out', join(dir, 'rm-steer'), '--quiet']);
    const job = await exportJob({ engine: 'trl', stage: 'rm', loss: 'scaled-bt', model: base, pairs: [join(dir, 'train.jsonl')], valPairs: [join(dir, 'val.jsonl')], epochs: 4, lr: 3e-3, batchSize: 16, out: join(dir, 'job-sbt'), log: () => {} });
    const launched = await steer(['launch', job.dir, '--ray', ray.address, '--output', join(dir, 'out-sbt')]);
    assert.equal(launched.status, 0, launched.stderr + launched.stdout.slice(-3000));
    assert.match(launched.stderr, /SUCCEEDED/);
    const steerRun = await inProcess;
    assert.equal(steerRun.status, 0, steerRun.stderr);

    await t.test('the TRL reward model comes back: transformers and steer agree; accuracy ≈ in-process', async () => {
      const rm = importJobOutput({ job: job.dir, from: join(dir, 'out-sbt'), out: join(dir, 'rm-trl') }).dir;
      // transformers' tokenizer and scores of the engine's checkpoint, for 8 held-out pairs
      const probe = val.slice(0, 8);
      const texts = probe.flatMap((p) => [formatExample(p.prompt as string, p.chosen), formatExample(p.prompt as string, p.rejected)]);
      const script = `import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
texts = json.loads(sys.argv[3])
tok = AutoTokenizer.from_pretrained(sys.argv[1])
m = AutoModelForSequenceClassification.from_pretrained(sys.argv[2]).eval()
ids = [tok(t)["input_ids"] for t in texts]
with torch.no_grad():
    scores = [m(input_ids=torch.tensor([i])).logits[0, 0].item() for i in ids]
print(json.dumps({"ids": ids, "scores": scores}))`;
      const r = spawnSync(py, ['-c', script, join(job.dir, 'model'), join(dir, 'out-sbt', 'model'), JSON.stringify(texts)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const hf = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ids: number[][]; scores: number[] };
      const exported = readFileSync(join(job.dir, 'data', 'eval.jsonl'), 'utf8').trim().split('\n').slice(0, 8).map((l) => JSON.parse(l) as { chosen_ids: number[]; rejected_ids: number[] });
      assert.deepEqual(hf.ids, exported.flatMap((e) => [e.chosen_ids, e.rejected_ids]));
      const ours = await scoreRewardModel(rm, probe.flatMap((p) => [{ prompt: p.prompt, response: p.chosen }, { prompt: p.prompt, response: p.rejected }]));
      ours.forEach((s, i) => assert.ok(Math.abs(s.reward - hf.scores[i]) < 1e-4, `score ${i}: steer ${s.reward}, transformers ${hf.scores[i]}`));

      const viaTrl = (await evaluatePairs(rm, val)).overall.accuracy;
      const viaSteer = (await evaluatePairs(join(dir, 'rm-steer'), val)).overall.accuracy;
      t.diagnostic(`held-out accuracy on ${val.length} pairs: TRL via Ray ${(100 * viaTrl).toFixed(1)} %, steer in-process ${(100 * viaSteer).toFixed(1)} %`);
      assert.ok(viaTrl > 0.55 && viaSteer > 0.55, 'both learnt (chance is 50 %)');
      assert.ok(Math.abs(viaTrl - viaSteer) <= 0.06, `TRL ${viaTrl} vs steer ${viaSteer}`);
    });

    await t.test('RLOO on TRL with the reward from the steer reward model over HTTP, then steer generate on it', async () => {
      const server = await startRewardServer(join(dir, 'rm-trl'));
      try {
        const prompts = join(dir, 'prompts.jsonl');
        writeFileSync(prompts, jsonl([...new Set(train.map((p) => p.prompt as string))].slice(0, 16).map((prompt) => ({ prompt }))));
        const rl = await exportJob({ engine: 'trl', stage: 'reinforce', model: base, prompts: [prompts], rewardUrl: server.url, steps: 2, batchSize: 4, samplesPerPrompt: 4, maxNewTokens: 16, out: join(dir, 'job-rloo'), log: () => {} });
        const r = await steer(['launch', rl.dir, '--ray', ray.address, '--output', join(dir, 'out-rloo')]);
        assert.equal(r.status, 0, r.stderr + r.stdout.slice(-3000));
        assert.ok(server.scored >= 2 * 16, `the reward server scored ${server.scored} samples (2 steps × 4 prompts × 4 samples)`);
        const policy = importJobOutput({ job: rl.dir, from: join(dir, 'out-rloo'), out: join(dir, 'policy-rloo') }).dir;
        // steer's greedy continuation of the imported policy = transformers' of the engine's checkpoint
        const prompt = formatPrompt('How many r in strawberry?');
        const g = await steer(['generate', '--model', policy, '--tokenizer', join(rl.dir, 'model', 'tokenizer.json'), '--prompt', prompt, '--max-new-tokens', '12', '--temperature', '0', '--stop-token', '2', '--quiet']);
        assert.equal(g.status, 0, g.stderr);
        const script = `import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1]); m = AutoModelForCausalLM.from_pretrained(sys.argv[2]).eval()
ids = tok(sys.argv[3], return_tensors="pt")["input_ids"]
out = m.generate(ids, max_new_tokens=12, do_sample=False, eos_token_id=2, pad_token_id=0)
print(tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True))`;
        const hf = spawnSync(py, ['-c', script, join(rl.dir, 'model'), join(dir, 'out-rloo', 'model'), prompt], { encoding: 'utf8' });
        assert.equal(hf.status, 0, hf.stderr);
        const hfText = hf.stdout.replace(/\n$/, '');
        assert.ok(g.stdout.includes(hfText), `steer generate: ${JSON.stringify(g.stdout)}; transformers: ${JSON.stringify(hfText)}`);
      } finally {
        await server.close();
      }
    });
  } finally {
    await ray.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
