// steer export / launch / import without an engine running: the data conversion (sign convention,
// ties dropped, steer's tokenisation), the reward head kept from a regression model, validation of
// engine options against the pinned definitions, the job package, and every bad-input message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runSteer } from '../helpers/cli.js';
import { venvPythonPath } from '../helpers/python.js';
import { CharTokenizer, formatExample } from '../../src/text/char.js';
import { exportJob } from '../../src/scale/export.js';
import { closestOption, engineSpec, validateEngineOptions } from '../../src/scale/engines.js';
import { directoryEntries, zipEntries } from '../../src/io/zip.js';
import { readJobDir } from '../../src/scale/job.js';
import { importJobOutput } from '../../src/scale/import.js';
import { RayJobsClient } from '../../src/scale/ray.js';
import { initToyPolicy, savePolicy } from '../../src/policy/model.js';
import { saveRewardModel } from '../../src/reward/model.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { UserError } from '../../src/util/errors.js';
import { randomRewardModel } from '../reward/helpers.js';

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
const readRows = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

function sim(...strengths: number[]) {
  return strengths.map((strength) => ({ statement: 's', elaboration: 'e', strength }));
}

/** Three raw HelpSteer2-Preference rows whose aggregation is worked out by hand. */
function preferenceRows() {
  return [
    // three most similar −2, −2, −1: mean −1.67 → −2: response_1 better, margin 2
    { split: 'train', prompt: 'What is 2+2?', response_1: 'It is 4.', response_2: 'It is 5.', preference_strength: -2, three_most_similar_preferences: sim(-2, -2, -1) },
    // 1, 1, 2: mean 1.33 → 1: response_2 better, margin 1
    { split: 'train', prompt: 'Spell cat.', response_1: 'c-a-t-s', response_2: 'c-a-t', preference_strength: 1, three_most_similar_preferences: sim(1, 1, 2) },
    // 0, 0, 1: mean 0.33 → 0: a tie, dropped before export
    { split: 'train', prompt: 'Reverse dog.', response_1: 'god', response_2: 'god.', preference_strength: 0, three_most_similar_preferences: sim(0, 0, 1) },
  ];
}

function fixture(): { dir: string; model: string; prefs: string } {
  const dir = mkdtempSync(join(tmpdir(), 'steer-export-'));
  const model = join(dir, 'base');
  savePolicy(model, initToyPolicy(1, { hiddenSize: 16, intermediateSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositionEmbeddings: 64 }));
  const prefs = join(dir, 'preference.jsonl');
  writeFileSync(prefs, jsonl(preferenceRows()));
  return { dir, model, prefs };
}

test('export trl rm: ties dropped, negative strength = response_1 chosen, |strength| as margin, steer\'s tokens', async () => {
  const { dir, model, prefs } = fixture();
  try {
    const r = await exportJob({ engine: 'trl', stage: 'rm', loss: 'scaled-bt', model, pairs: [prefs], out: join(dir, 'job'), log: () => {} });
    const rows = readRows(join(r.dir, 'data', 'train.jsonl'));
    assert.equal(rows.length, 2); // the tie is gone
    const tok = new CharTokenizer();
    assert.deepEqual(rows[0].chosen_ids, tok.encode(formatExample('What is 2+2?', 'It is 4.')));
    assert.deepEqual(rows[0].rejected_ids, tok.encode(formatExample('What is 2+2?', 'It is 5.')));
    assert.equal(rows[0].margin, 2);
    assert.deepEqual(rows[1].chosen_ids, tok.encode(formatExample('Spell cat.', 'c-a-t')));
    assert.equal(rows[1].margin, 1);
    const m = readJobDir(r.dir);
    assert.equal(m.engine, 'trl');
    assert.equal(m.engineVersion, '1.16.0');
    assert.deepEqual(m.rewardModel?.attributes, ['reward']);
    // the HF tokenizer files and steer's own are both in the job
    assert.ok(existsSync(join(r.dir, 'model', 'tokenizer.json')) && existsSync(join(r.dir, 'model', 'tokenizer_config.json')));
    assert.equal(JSON.parse(readFileSync(join(r.dir, 'steer-tokenizer', 'tokenizer.json'), 'utf8')).type, 'steer-char');
    const cfg = JSON.parse(readFileSync(join(r.dir, 'trl_config.json'), 'utf8'));
    assert.equal(cfg.args.max_length, null); // steer truncates; TRL must not drop rows
    assert.match(readFileSync(join(r.dir, 'README.md'), 'utf8'), /Scaled BT: run\.py ScaledBTRewardTrainer/);

    // plain BT: no margin column (TRL's RewardTrainer would otherwise subtract it)
    const bt = await exportJob({ engine: 'trl', stage: 'rm', loss: 'bt', model, pairs: [prefs], out: join(dir, 'job-bt'), log: () => {} });
    assert.equal('margin' in readRows(join(bt.dir, 'data', 'train.jsonl'))[0], false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export trl rm from a regression reward model keeps the read slot\'s head row (score.weight) and its bias in the manifest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-export-'));
  try {
    const rm = randomRewardModel(3, ['correctness', 'helpfulness']);
    saveRewardModel(join(dir, 'reg'), rm);
    writeFileSync(join(dir, 'pairs.jsonl'), jsonl([{ prompt: 'a', chosen: 'b', rejected: 'c', margin: 2 }]));
    const r = await exportJob({ engine: 'trl', stage: 'rm', loss: 'scaled-bt', model: join(dir, 'reg'), pairs: [join(dir, 'pairs.jsonl')], out: join(dir, 'job'), log: () => {} });
    const { tensors } = readSafetensors(join(r.dir, 'model', 'model.safetensors'));
    const D = rm.config.hiddenSize;
    // helpfulness is slot 1: score.weight must be row 1 of the steer head
    assert.deepEqual(tensors.get('score.weight')!.shape, [1, D]);
    assert.deepEqual([...tensors.get('score.weight')!.data], [...rm.head.weight.subarray(D, 2 * D)]);
    assert.equal(tensors.has('lm_head.weight'), false);
    const cfg = JSON.parse(readFileSync(join(r.dir, 'model', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['LlamaForSequenceClassification']);
    assert.equal(cfg.num_labels, 1);
    assert.deepEqual(readJobDir(r.dir).rewardModel?.bias, [rm.head.bias[1]]); // randomRewardModel's bias = slot index = 1
    assert.deepEqual(readJobDir(r.dir).rewardModel?.attributes, ['helpfulness']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engine options are checked against the pinned TRL definitions: a wrong option fails export, nothing written', async () => {
  const spec = engineSpec('trl');
  assert.equal(spec.version, '1.16.0');
  assert.ok('center_rewards_coefficient' in spec.configs.rm.fields);
  assert.ok('num_generations' in spec.configs.rloo.fields);
  assert.equal(closestOption('learning_rat', Object.keys(spec.configs.rm.fields)), 'learning_rate');
  assert.throws(() => validateEngineOptions('trl', 'rm', { learning_rate: 1, num_generations: 4 }, 'x'), (e: unknown) => e instanceof UserError && /num_generations/.test(e.message) && /trl\.RewardConfig/.test(e.message));
  const { dir, model, prefs } = fixture();
  try {
    const out = join(dir, 'job');
    const r = runSteer(['export', 'trl', 'rm', '--model', model, '--pairs', prefs, '--set', 'learning_rat=1e-4', '--out', out, '--quiet']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /trl 1\.16\.0 does not define the option learning_rat \(did you mean learning_rate\?\) in trl\.RewardConfig/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []); // no temporary directory left behind
    const ok = await exportJob({ engine: 'trl', stage: 'rm', model, pairs: [prefs], set: { center_rewards_coefficient: 0.01 }, out, log: () => {} });
    assert.equal(JSON.parse(readFileSync(join(ok.dir, 'trl_config.json'), 'utf8')).args.center_rewards_coefficient, 0.01);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export trl dpo scaled repeats each pair |strength| times; margin DPO is refused with the reason', async () => {
  const { dir, model, prefs } = fixture();
  try {
    const r = await exportJob({ engine: 'trl', stage: 'dpo', loss: 'scaled', model, pairs: [prefs], out: join(dir, 'job'), log: () => {} });
    const rows = readRows(join(r.dir, 'data', 'train.jsonl'));
    assert.equal(rows.length, 3); // margins 2 + 1
    assert.deepEqual(rows.map((x) => x.chosen), ['It is 4.', 'It is 4.', 'c-a-t']);
    assert.match(r.manifest.emulations.join('\n'), /each pair appears m = \|strength\| times/);
    await assert.rejects(exportJob({ engine: 'trl', stage: 'dpo', loss: 'margin', model, pairs: [prefs], out: join(dir, 'j2'), log: () => {} }), (e: unknown) => e instanceof UserError && /margin DPO .* cannot be expressed in TRL 1\.16/.test(e.message));
    assert.equal(existsSync(join(dir, 'j2')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: unknown engine or stage, not a job dir, an unreachable Ray — one message, exit 2', async () => {
  const { dir, model, prefs } = fixture();
  const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  try {
    await assert.rejects(exportJob({ engine: 'torchtune', stage: 'rm', model, pairs: [prefs], out: join(dir, 'j') }), userError(/unknown engine "torchtune"\n {2}expected: trl \| openrlhf \| nemo-rl \| nemo-aligner/));
    await assert.rejects(exportJob({ engine: 'trl', stage: 'ppo', model, pairs: [prefs], out: join(dir, 'j') }), userError(/unknown stage "ppo"/));
    assert.throws(() => readJobDir(dir), userError(/not a steer job directory: no steer-job\.json/));
    assert.throws(() => readJobDir(join(dir, 'absent')), userError(/the job directory does not exist/));
    const job = await exportJob({ engine: 'trl', stage: 'rm', model, pairs: [prefs], out: join(dir, 'job'), log: () => {} });
    assert.throws(() => importJobOutput({ job: job.dir, from: join(dir, 'nothing'), out: join(dir, 'x') }), userError(/no model in the job output/));
    assert.throws(() => new RayJobsClient('ray://127.0.0.1:10001'), userError(/the dashboard's http\(s\) URL/));
    // the CLI: a port nobody listens on (found, then closed) → one message, exit 2, no stack trace
    const srv = http.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const e = runSteer(['launch', job.dir, '--ray', `http://127.0.0.1:${port}`]);
    assert.equal(e.status, 2);
    assert.match(e.stderr, /steer: error: GET http:\/\/127\.0\.0\.1:\d+\/api\/version: cannot reach the Ray dashboard \(ECONNREFUSED\)/);
    assert.doesNotMatch(e.stderr, /at .*\.ts:\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the job package is a zip Python\'s zipfile (what Ray unpacks with) reads back byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-zip-'));
  try {
    mkdirSync(join(dir, 'src', 'data'), { recursive: true });
    writeFileSync(join(dir, 'src', 'run.py'), 'print("hi")\n');
    writeFileSync(join(dir, 'src', 'data', 'ünïcode.jsonl'), '{"a": 1}\n'.repeat(500)); // compresses: deflated
    writeFileSync(join(dir, 'src', 'empty'), '');
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24; // incompressible-ish: stored
    writeFileSync(join(dir, 'src', 'blob.bin'), bytes);
    mkdirSync(join(dir, 'src', 'output'));
    writeFileSync(join(dir, 'src', 'output', 'skip.txt'), 'x');
    writeFileSync(join(dir, 'pkg.zip'), zipEntries(directoryEntries(join(dir, 'src'), ['output'])));
    const py = `import zipfile, hashlib, json, sys
z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None
print(json.dumps({i.filename: [hashlib.sha256(z.read(i)).hexdigest(), i.compress_type, (i.external_attr >> 16) & 0o777] for i in z.infolist()}))`;
    const r = spawnSync(venvPythonPath() ?? 'python3', ['-c', py, join(dir, 'pkg.zip')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, [string, number, number]>;
    assert.deepEqual(Object.keys(got).sort(), ['blob.bin', 'data/ünïcode.jsonl', 'empty', 'run.py']);
    const sha = (p: string) => spawnSync('sha256sum', [p], { encoding: 'utf8' }).stdout.split(' ')[0];
    for (const name of Object.keys(got)) assert.equal(got[name][0], sha(join(dir, 'src', name)), name);
    assert.equal(got['data/ünïcode.jsonl'][1], 8); // deflate
    assert.equal(got['run.py'][2], 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exports to OpenRLHF, NeMo-RL and NeMo-Aligner: engine formats, command lines validated against their pinned definitions', async () => {
  const { dir, model, prefs } = fixture();
  const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);
  try {
    // OpenRLHF: margin BT is its own margin loss (exact): margin column + --model.margin_loss_enable
    const orl = await exportJob({ engine: 'openrlhf', stage: 'rm', loss: 'margin-bt', model, pairs: [prefs], out: join(dir, 'orl'), log: () => {} });
    assert.equal(orl.manifest.engineVersion, '0.11.2');
    const orlRows = readRows(join(orl.dir, 'data', 'train.jsonl'));
    assert.deepEqual(orlRows.map((r) => [r.chosen, r.margin]), [[formatExample('What is 2+2?', 'It is 4.'), 2], [formatExample('Spell cat.', 'c-a-t'), 1]]);
    const run = readFileSync(join(orl.dir, 'run.sh'), 'utf8');
    assert.match(run, /deepspeed --module openrlhf\.cli\.train_rm/);
    assert.match(run, /--model\.margin_loss_enable\n/);
    assert.match(run, /--data\.chosen_key chosen/);
    // Scaled BT: repeated ∝ strength (2 + 1 rows), said in the README
    const orlS = await exportJob({ engine: 'openrlhf', stage: 'rm', loss: 'scaled-bt', model, pairs: [prefs], out: join(dir, 'orl-s'), log: () => {} });
    assert.equal(readRows(join(orlS.dir, 'data', 'train.jsonl')).length, 3);
    assert.match(readFileSync(join(orlS.dir, 'README.md'), 'utf8'), /Scaled BT \(−m·log σ\(r_c − r_r\)\) is emulated: each pair appears m = \|strength\| times/);
    // a wrong option: an OpenRLHF flag that does not exist in 0.11.2 (0.9's --pretrain was renamed)
    await assert.rejects(exportJob({ engine: 'openrlhf', stage: 'rm', model, pairs: [prefs], set: { pretrain: model }, out: join(dir, 'orl-bad'), log: () => {} }), userError(/openrlhf 0\.11\.2 does not define the option pretrain .*in openrlhf\.cli\.train_rm/));
    assert.equal(existsSync(join(dir, 'orl-bad')), false);
    await assert.rejects(exportJob({ engine: 'openrlhf', stage: 'rm', loss: 'regression', model, ratings: [prefs], out: join(dir, 'orl-r'), log: () => {} }), userError(/regression \(SteerLM\) reward model cannot be expressed on openrlhf/));

    // NeMo-Aligner: RewardModelDataset reads consecutive lines, chosen then rejected
    const nal = await exportJob({ engine: 'nemo-aligner', stage: 'rm', loss: 'bt', model, pairs: [prefs], out: join(dir, 'nal'), log: () => {} });
    assert.deepEqual(readRows(join(nal.dir, 'data', 'train.jsonl')).map((r) => r.text), [formatExample('What is 2+2?', 'It is 4.'), formatExample('What is 2+2?', 'It is 5.'), formatExample('Spell cat.', 'c-a-t'), formatExample('Spell cat.', 'c-a-t-s')]);
    assert.match(readFileSync(join(nal.dir, 'run.sh'), 'utf8'), /model\.reward_model_type=binary_ranking/);
    await assert.rejects(exportJob({ engine: 'nemo-aligner', stage: 'rm', model, pairs: [prefs], set: { 'trainer.rm.max_epoch': 2 }, out: join(dir, 'nal-bad'), log: () => {} }), userError(/nemo-aligner v0\.7\.0 does not define the option trainer\.rm\.max_epoch \(did you mean trainer\.rm\.max_epochs\?\)/));

    // NeMo-RL: BinaryPreferenceDataset rows {prompt, chosen, rejected}; the custom-data keys come from its TypedDicts
    const nrl = await exportJob({ engine: 'nemo-rl', stage: 'dpo', loss: 'regular', model, pairs: [prefs], out: join(dir, 'nrl'), log: () => {} });
    assert.deepEqual(readRows(join(nrl.dir, 'data', 'train.jsonl'))[0], { prompt: [{ role: 'user', content: 'What is 2+2?' }], chosen: 'It is 4.', rejected: 'It is 5.' });
    assert.match(readFileSync(join(nrl.dir, 'run.sh'), 'utf8'), /data\.train\.data_path=data\/train\.jsonl/);
    await assert.rejects(exportJob({ engine: 'nemo-rl', stage: 'dpo', model, pairs: [prefs], set: { 'dpo.beta': 0.2 }, out: join(dir, 'nrl-bad'), log: () => {} }), userError(/nemo-rl v0\.7\.0 does not define the option dpo\.beta/));
    const rl = await exportJob({ engine: 'nemo-rl', stage: 'reinforce', model, prompts: [prefs], rewardUrl: 'http://rm:8000/reward', out: join(dir, 'nrl-rl'), log: () => {} });
    assert.match(readFileSync(join(rl.dir, 'run.sh'), 'utf8'), /grpo\.use_leave_one_out_baseline=true/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
