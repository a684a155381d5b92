// The malformed-input corpus: hostile-but-realistic inputs a new user produces (broken JSON, NUL
// bytes, out-of-range ratings, margins that overflow float32, a file where a directory belongs,
// truncated run files, unknown flags at every command depth), generated into a temporary
// directory at test time — nothing is hand-kept. Each case is an argv for `steer` and what must
// hold after it: exit code 2, stderr naming `names` (file, line, field or option), no stack trace,
// and no output left behind (`absent` paths do not exist, `unchanged` files keep their bytes).
//
// Usage errors are generated from the command tree itself (buildProgram), so commands registered
// later are covered without editing this file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Command, Option } from 'commander';
import { buildProgram } from '../../../src/cli/main.js';
import { initToyPolicy, savePolicy } from '../../../src/policy/model.js';

export interface CorpusCase {
  /** Short id: group/what. */
  name: string;
  argv: string[];
  /** Substrings stderr must contain (the file, line, field or option at fault). */
  names: string[];
  /** Paths that must not exist afterwards (no partial output). */
  absent: string[];
  /** Files whose bytes must be the same afterwards. */
  unchanged: string[];
}

const HS2 = { prompt: 'How many r in strawberry?', response: 'There are 3.', helpfulness: 3, correctness: 4, coherence: 4, complexity: 1, verbosity: 1 };
const PREF = { split: 'train', prompt: 'Say hi', response_1: 'hi', response_2: 'hello there', preference_strength: 2, three_most_similar_preferences: [{ statement: 'a', elaboration: 'b', strength: 2 }, { statement: 'a', elaboration: 'b', strength: 2 }, { statement: 'a', elaboration: 'b', strength: 1 }] };
const PAIR = { prompt: 'Say hi', chosen: 'hi', rejected: 'bye', margin: 1 };
const STEERLM = { text: '<extra_id_0>System\nsys\n<extra_id_1>User\nhi\n<extra_id_1>Assistant\nhello\n<extra_id_2>', label: [-100, -100, -100, -100, 3, 3, 4, 1, 1] };
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Every leaf command of the tree, with its path of names (["rm", "train"]). */
export function leafCommands(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ path, cmd }];
  return cmd.commands.flatMap((c) => leafCommands(c, [...path, c.name()]));
}

const optionFlag = (o: Option) => o.long ?? o.short ?? '';
const isRequired = (o: Option) => o.mandatory;

/** Write the corpus's input files under `dir` and return its cases. */
export function makeCorpus(dir: string): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const f = (name: string, content: string | Uint8Array) => {
    const p = join(dir, 'in', name);
    writeFileSync(p, content);
    return p;
  };
  mkdirSync(join(dir, 'in'), { recursive: true });
  const fresh = (name: string) => join(dir, 'out', name);
  mkdirSync(join(dir, 'out'), { recursive: true });

  // good inputs, for the slots a case does not break
  const goodRatings = f('ratings.jsonl', jsonl([HS2, { ...HS2, helpfulness: 1 }]));
  const goodPairs = f('pairs.jsonl', jsonl([PAIR, { ...PAIR, prompt: 'Say bye' }]));
  const goodSft = f('sft.jsonl', jsonl([{ prompt: 'hi', response: 'hello' }]));
  const goodPrompts = f('prompts.jsonl', jsonl([{ prompt: 'hi' }]));
  const policyDir = join(dir, 'policy');
  savePolicy(policyDir, initToyPolicy(0, { hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 32 }));
  const aFile = f('a-file.txt', 'I am a file, not a directory\n');

  // ---- 1. usage errors at every command depth, from the command tree ----------------------------
  const program = buildProgram();
  for (const { path, cmd } of leafCommands(program)) {
    const id = path.join(' ');
    const required = cmd.options.filter(isRequired);
    const requiredArgs = (cmd as unknown as { registeredArguments: { required: boolean; variadic: boolean }[] }).registeredArguments.filter((a) => a.required);
    const filler = [...required.flatMap((o) => [optionFlag(o), 'x']), ...requiredArgs.map(() => 'x')];
    cases.push({ name: `usage/${id}/unknown-option`, argv: [...path, ...filler, '--bogus-flag'], names: ["'--bogus-flag'"], absent: [], unchanged: [] });
    if (required.length > 0) {
      cases.push({ name: `usage/${id}/missing-required`, argv: [...path], names: [optionFlag(required[0])], absent: [], unchanged: [] });
    } else if (requiredArgs.length > 0) {
      cases.push({ name: `usage/${id}/missing-argument`, argv: [...path], names: ['missing required argument'], absent: [], unchanged: [] });
    }
    // numeric options: a value that is not a number names the option
    for (const o of cmd.options) {
      const d = o.defaultValue;
      if (!o.required || typeof d !== 'string' || !/^-?\d+(\.\d+)?(e-?\d+)?$/.test(d) || o.long === '--threads' || o.long === '--seed') continue;
      cases.push({ name: `usage/${id}/not-a-number${o.long}`, argv: [...path, ...filler, o.long!, 'abc'], names: [o.long!], absent: [], unchanged: [] });
    }
    if (cmd.options.some((o) => o.long === '--seed')) cases.push({ name: `usage/${id}/negative-seed`, argv: [...path, ...filler, '--seed', '-3'], names: ['--seed'], absent: [], unchanged: [] });
  }
  cases.push({ name: 'usage/unknown-command', argv: ['trian'], names: ["'trian'"], absent: [], unchanged: [] });
  cases.push({ name: 'usage/unknown-subcommand', argv: ['rm', 'trian'], names: ["'trian'"], absent: [], unchanged: [] });
  cases.push({ name: 'usage/rl-reinforce-k1', argv: ['rl', 'reinforce', '--policy', policyDir, '--prompts', goodPrompts, '--reward', 'toy-truth', '-k', '1', '--out', fresh('rl-k1')], names: ['--samples-per-prompt', '≥ 2'], absent: [fresh('rl-k1')], unchanged: [] });
  cases.push({ name: 'usage/config-file-bad-json', argv: ['data', 'toy', '--config', f('cfg.json', '{"size": 10,'), '--out', fresh('cfg')], names: ['cfg.json'], absent: [fresh('cfg')], unchanged: [] });
  cases.push({ name: 'usage/config-file-unknown-key', argv: ['data', 'toy', '--config', f('cfg2.json', '{"sise": 10}'), '--out', fresh('cfg2')], names: ['sise'], absent: [fresh('cfg2')], unchanged: [] });

  // ---- 2. file-level defects × every command slot that reads a data file ----------------------------
  const defects: { id: string; make: () => string; names: (p: string) => string[] }[] = [
    { id: 'missing', make: () => join(dir, 'in', 'does-not-exist.jsonl'), names: (p) => [p, 'not found'] },
    { id: 'directory', make: () => (mkdirSync(join(dir, 'in', 'a-dir.jsonl'), { recursive: true }), join(dir, 'in', 'a-dir.jsonl')), names: (p) => [p, 'not a regular file'] },
    { id: 'unknown-extension', make: () => f('data.txt', jsonl([PAIR])), names: (p) => [p, '.jsonl'] },
    { id: 'bad-json-line-2', make: () => f('badjson.jsonl', '\n{"prompt": "x", "chosen": \n'), names: (p) => [`${p}:2`, 'invalid JSON'] },
    { id: 'not-an-object', make: () => f('array-line.jsonl', '[1, 2, 3]\n'), names: (p) => [`${p}:1`, 'not a JSON object'] },
    { id: 'nul-bytes', make: () => f('nul.jsonl', Buffer.from('\u0000\u0000\u0000\u0000garbage\n', 'latin1')), names: (p) => [`${p}:1`, 'NUL bytes'] },
    { id: 'utf16', make: () => f('utf16.jsonl', Buffer.from('\ufeff' + JSON.stringify(PAIR) + '\n', 'utf16le')), names: (p) => [`${p}:1`] },
    { id: 'bad-gzip', make: () => f('bad.jsonl.gz', Buffer.from('this is not gzip at all')), names: (p) => [p, 'decompress'] },
    { id: 'truncated-gzip', make: () => f('trunc.jsonl.gz', gzipSync(Buffer.from(jsonl(Array.from({ length: 200 }, () => PAIR)))).subarray(0, 60)), names: (p) => [p] },
    { id: 'bad-parquet', make: () => f('bad.parquet', Buffer.from('PAR1 not really parquet')), names: (p) => [p, 'parquet'] },
    { id: 'bad-json-array', make: () => f('bad-array.json', '[{"prompt": "x"},\n  {"prompt": ]\n'), names: (p) => [p, 'invalid JSON'] },
  ];
  const slots: { id: string; argv: (file: string, out: string) => string[]; out?: 'dir' | 'file' }[] = [
    { id: 'data-stats', argv: (p) => ['data', 'stats', p] },
    { id: 'data-prepare-ratings', argv: (p, o) => ['data', 'prepare', '--ratings', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'data-prepare-preferences', argv: (p, o) => ['data', 'prepare', '--preferences', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'data-prepare-pairs', argv: (p, o) => ['data', 'prepare', '--pairs', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'rm-train-ratings', argv: (p, o) => ['rm', 'train', '--loss', 'regression', '--ratings', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'rm-train-pairs', argv: (p, o) => ['rm', 'train', '--loss', 'scaled-bt', '--pairs', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'rm-train-val-pairs', argv: (p, o) => ['rm', 'train', '--loss', 'bt', '--pairs', goodPairs, '--val-pairs', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'rm-eval', argv: (p) => ['rm', 'eval', '--model', policyDir, p, '--quiet'] },
    { id: 'rm-score', argv: (p, o) => ['rm', 'score', '--model', policyDir, p, '--out', o], out: 'file' },
    { id: 'sft-data', argv: (p, o) => ['sft', '--init', 'toy', '--data', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'sft-eval-data', argv: (p, o) => ['sft', '--init', 'toy', '--data', goodSft, '--eval-data', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'dpo-pairs', argv: (p, o) => ['dpo', '--policy', policyDir, '--pairs', p, '--out', o, '--quiet'], out: 'dir' },
    { id: 'rl-prompts', argv: (p, o) => ['rl', 'reinforce', '--policy', policyDir, '--prompts', p, '--reward', 'toy-truth', '--out', o, '--quiet'], out: 'dir' },
  ];
  for (const d of defects) {
    const p = d.make();
    for (const s of slots) {
      const o = fresh(`${s.id}-${d.id}${s.out === 'file' ? '.jsonl' : ''}`);
      cases.push({ name: `file/${s.id}/${d.id}`, argv: s.argv(p, o), names: d.names(p), absent: s.out ? [o] : [], unchanged: [] });
    }
  }

  // ---- 3. field-level defects: each reader names file:line and the field --------------------------
  const field = (id: string, rows: unknown[], line: number, fieldName: string, argv: (p: string, o: string) => string[], extra: string[] = []) => {
    const p = f(`${id}.jsonl`, jsonl(rows));
    const o = fresh(`field-${id}`);
    cases.push({ name: `field/${id}`, argv: argv(p, o), names: [`${p}:${line}`, fieldName, ...extra], absent: [o], unchanged: [] });
  };
  const ratings = (p: string, o: string) => ['rm', 'train', '--loss', 'regression', '--ratings', p, '--out', o, '--quiet'];
  const pairs = (p: string, o: string) => ['rm', 'train', '--loss', 'scaled-bt', '--pairs', p, '--out', o, '--quiet'];
  const prepPrefs = (p: string, o: string) => ['data', 'prepare', '--preferences', p, '--out', o, '--quiet'];
  const prepRatings = (p: string, o: string) => ['data', 'prepare', '--ratings', p, '--out', o, '--quiet'];
  const prepPairs = (p: string, o: string) => ['data', 'prepare', '--pairs', p, '--out', o, '--quiet'];
  const sft = (p: string, o: string) => ['sft', '--init', 'toy', '--data', p, '--out', o, '--quiet'];
  const dpo = (p: string, o: string) => ['dpo', '--policy', policyDir, '--pairs', p, '--out', o, '--quiet'];
  const rl = (p: string, o: string) => ['rl', 'reinforce', '--policy', policyDir, '--prompts', p, '--reward', 'toy-truth', '--out', o, '--quiet'];
  for (const [tool, run] of [['rm', ratings], ['prep', prepRatings]] as const) {
    field(`${tool}-rating-7`, [HS2, { ...HS2, helpfulness: 7 }], 2, 'helpfulness', run, ['[0, 4]']);
    field(`${tool}-rating-fraction`, [{ ...HS2, correctness: 2.5 }], 1, 'correctness', run);
    field(`${tool}-rating-string`, [{ ...HS2, coherence: '3' }], 1, 'coherence', run);
    field(`${tool}-rating-missing`, [HS2, { prompt: 'p', response: 'r', correctness: 1, coherence: 1, complexity: 1, verbosity: 1 }], 2, 'helpfulness', run);
    field(`${tool}-rating-negative`, [{ ...HS2, verbosity: -1 }], 1, 'verbosity', run);
    if (tool === 'rm') field(`${tool}-steerlm-1e38`, [{ ...STEERLM, label: [-100, -100, -100, -100, 1e38, 3, 4, 1, 1] }], 1, 'label[4]', run, ['-100']);
    if (tool === 'rm') field(`${tool}-steerlm-7`, [STEERLM, { ...STEERLM, label: [-100, -100, -100, -100, 7, 3, 4, 1, 1] }], 2, 'label[4]', run);
    if (tool === 'rm') field(`${tool}-steerlm-8-slots`, [{ ...STEERLM, label: [1, 2, 3, 4, 1, 2, 3, 4] }], 1, 'label', run, ['9']);
    if (tool === 'rm') field(`${tool}-steerlm-text`, [{ ...STEERLM, text: 'no template at all' }], 1, 'text', run);
    field(`${tool}-response-not-string`, [{ ...HS2, response: 42 }], 1, 'response', run);
  }
  for (const [tool, run] of [['rm', pairs], ['prep', prepPairs], ['dpo', dpo]] as const) {
    field(`${tool}-margin-1e39`, [PAIR, { ...PAIR, margin: 1e39 }], 2, 'margin', run, ['100']);
    field(`${tool}-margin-negative`, [{ ...PAIR, margin: -1 }], 1, 'margin', run);
    field(`${tool}-margin-string`, [{ ...PAIR, margin: '2' }], 1, 'margin', run);
    field(`${tool}-rejected-missing`, [PAIR, { prompt: 'p', chosen: 'c' }], 2, 'rejected', run);
    field(`${tool}-chosen-null`, [{ ...PAIR, chosen: null }], 1, 'chosen', run);
    field(`${tool}-strength-4`, [{ prompt: 'p', chosen: 'c', rejected: 'r', strength: 4 }], 1, 'strength', run);
    field(`${tool}-prompt-number`, [{ ...PAIR, prompt: 42 }], 1, 'prompt', run);
    field(`${tool}-turn-role`, [{ ...PAIR, prompt: [{ role: 'wizard', content: 'hi' }] }], 1, 'prompt', run);
  }
  for (const [tool, run] of [['prep', prepPrefs], ['rm', pairs]] as const) {
    field(`${tool}-pref-strength-5`, [PREF, { ...PREF, preference_strength: 5 }], 2, 'preference_strength', run);
    field(`${tool}-pref-similar-9`, [{ ...PREF, three_most_similar_preferences: [{ strength: 9 }] }], 1, 'three_most_similar_preferences[0].strength', run);
    field(`${tool}-pref-response2-missing`, [PREF, { split: 'train', prompt: 'p', response_1: 'a', preference_strength: 1 }], 2, 'response_2', run);
    field(`${tool}-pref-annotator-1.5`, [{ ...PREF, all_preferences_unprocessed: [{ strength: 1.5 }] }], 1, 'all_preferences_unprocessed[0].strength', run);
  }
  field('sft-response-missing', [{ prompt: 'p', response: 'r' }, { prompt: 'p' }], 2, 'response', sft);
  field('sft-response-number', [{ prompt: 'p', response: 7 }], 1, 'response', sft);
  field('rl-prompt-missing', [{ prompt: 'p' }, { question: 'p' }], 2, 'prompt', rl);
  field('rl-prompt-number', [{ prompt: 3 }], 1, 'prompt', rl);
  field('score-row-response-missing', [{ prompt: 'p' }], 1, 'response', (p, o) => ['rm', 'score', '--model', policyDir, p, '--out', o]);
  // a BOM before a bad first record: the field is named, not "Unexpected token"
  {
    const p = f('bom.jsonl', '\ufeff' + JSON.stringify({ ...PAIR, margin: -2 }) + '\n');
    const o = fresh('bom');
    cases.push({ name: 'field/bom-then-bad-margin', argv: pairs(p, o), names: [`${p}:1`, 'margin'], absent: [o], unchanged: [] });
  }
  // one 1,000,001-character text field
  {
    const p = f('huge.jsonl', jsonl([PAIR, { ...PAIR, chosen: 'a'.repeat(1_000_001) }]));
    const o = fresh('huge');
    cases.push({ name: 'field/text-over-the-cap', argv: pairs(p, o), names: [`${p}:2`, 'chosen', '1000000'], absent: [o], unchanged: [] });
  }
  // a long (but valid) row without --max-length: rm train's default cap, before any work
  {
    const p = f('long.jsonl', jsonl([PAIR, { ...PAIR, chosen: 'a'.repeat(9000) }]));
    const o = fresh('long');
    cases.push({ name: 'field/longer-than-default-max-length', argv: ['rm', 'train', '--loss', 'bt', '--pairs', p, '--batch-size', '1', '--out', o, '--quiet'], names: [`${p}:2`, '--max-length', '4096'], absent: [o], unchanged: [] });
  }

  // ---- 4. outputs of the wrong kind ------------------------------------------------------------------
  const outFile = (id: string, argv: (o: string) => string[]) => {
    const o = f(`out-${id}.txt`, 'precious bytes\n');
    cases.push({ name: `output/${id}/out-is-a-file`, argv: argv(o), names: [o, 'a directory is expected'], absent: [], unchanged: [o] });
  };
  outFile('rm-train', (o) => ['rm', 'train', '--loss', 'bt', '--pairs', goodPairs, '--batch-size', '1', '--out', o, '--quiet']);
  outFile('sft', (o) => ['sft', '--init', 'toy', '--data', goodSft, '--batch-size', '1', '--out', o, '--quiet']);
  outFile('dpo', (o) => ['dpo', '--policy', policyDir, '--pairs', goodPairs, '--batch-size', '1', '--out', o, '--quiet']);
  outFile('rl', (o) => ['rl', 'reinforce', '--policy', policyDir, '--prompts', goodPrompts, '--reward', 'toy-truth', '--prompts-per-step', '1', '--out', o, '--quiet']);
  outFile('data-toy', (o) => ['data', 'toy', '--size', '10', '--out', o, '--quiet']);
  outFile('data-prepare', (o) => ['data', 'prepare', '--pairs', goodPairs, '--out', o, '--quiet']);
  outFile('rm-expo', (o) => ['rm', 'expo', '--weak', policyDir, '--strong', policyDir, '--out', o, '--quiet']);
  // a file as a parent of --out
  {
    const o = join(aFile, 'run');
    cases.push({ name: 'output/parent-is-a-file', argv: ['data', 'toy', '--size', '10', '--out', o, '--quiet'], names: [aFile], absent: [], unchanged: [aFile] });
  }
  const outDir = (id: string, argv: (o: string) => string[], flag = '--out') => {
    const o = join(dir, 'out', `dir-${id}`);
    mkdirSync(o, { recursive: true });
    cases.push({ name: `output/${id}/file-flag-is-a-directory`, argv: argv(o), names: [o, flag, 'a file is expected'], absent: [], unchanged: [] });
  };
  outDir('rm-score', (o) => ['rm', 'score', '--model', policyDir, f('score-rows.jsonl', jsonl([{ prompt: 'p', response: 'r' }])), '--out', o]);
  outDir('generate', (o) => ['generate', '--model', policyDir, '--prompt', 'hi', '--out', o, '--quiet']);
  outDir('rm-eval-results', (o) => ['rm', 'eval', '--model', policyDir, goodPairs, '--results', o, '--quiet'], '--results');

  // ---- 5. run directories a previous run left behind ----------------------------------------------------
  const runDir = (id: string, configFile: string, config: string, argv: (o: string) => string[], names: (o: string) => string[]) => {
    const o = join(dir, 'runs', id);
    mkdirSync(join(o, 'checkpoints', 'step-000001'), { recursive: true });
    writeFileSync(join(o, 'checkpoints', 'latest.json'), '{"step": 1, "dir": "step-000001"}\n');
    writeFileSync(join(o, configFile), config);
    cases.push({ name: `run/${id}`, argv: argv(o), names: names(o), absent: [join(o, 'model')], unchanged: [join(o, configFile)] });
  };
  runDir('rm-truncated-train-config', 'train-config.json', '{"loss": "bt", "lr": 0.0', (o) => ['rm', 'train', '--loss', 'bt', '--pairs', goodPairs, '--batch-size', '1', '--out', o, '--quiet'], (o) => [join(o, 'train-config.json'), '--no-resume']);
  runDir('sft-truncated-config', 'config.json', '{"stage": "sft", "lr": ', (o) => ['sft', '--init', 'toy', '--data', goodSft, '--batch-size', '1', '--out', o, '--quiet'], (o) => [join(o, 'config.json'), '--no-resume']);
  runDir('dpo-other-options', 'config.json', JSON.stringify({ stage: 'dpo', lr: 123, beta: 0.5 }), (o) => ['dpo', '--policy', policyDir, '--pairs', goodPairs, '--batch-size', '1', '--out', o, '--quiet'], (o) => [o, '--lr', '--beta', '--no-resume']);
  runDir('rl-other-options', 'config.json', JSON.stringify({ stage: 'reinforce', lr: 123 }), (o) => ['rl', 'reinforce', '--policy', policyDir, '--prompts', goodPrompts, '--reward', 'toy-truth', '--prompts-per-step', '1', '--out', o, '--quiet'], (o) => [o, '--lr', '--no-resume']);
  {
    // a checkpoint pointer that names no checkpoint
    const o = join(dir, 'runs', 'bad-pointer');
    mkdirSync(join(o, 'checkpoints'), { recursive: true });
    writeFileSync(join(o, 'checkpoints', 'latest.json'), '{"step": 1, "dir": "../../etc"}\n');
    cases.push({ name: 'run/bad-latest-pointer', argv: ['sft', '--init', 'toy', '--data', goodSft, '--batch-size', '1', '--out', o, '--quiet'], names: [o, '--no-resume'], absent: [join(o, 'model')], unchanged: [join(o, 'checkpoints', 'latest.json')] });
  }
  // a model directory that is not one
  cases.push({ name: 'model/generate-missing-model', argv: ['generate', '--model', join(dir, 'no-model'), '--prompt', 'hi', '--quiet'], names: [join(dir, 'no-model')], absent: [], unchanged: [] });
  cases.push({ name: 'model/dpo-policy-is-a-data-file', argv: ['dpo', '--policy', goodPairs, '--pairs', goodPairs, '--out', fresh('dpo-policy-file'), '--quiet'], names: [goodPairs], absent: [fresh('dpo-policy-file')], unchanged: [] });
  cases.push({ name: 'model/rm-score-not-a-reward-model', argv: ['rm', 'score', '--model', policyDir, f('rows.jsonl', jsonl([{ prompt: 'p', response: 'r' }])), '--out', fresh('score.jsonl')], names: [policyDir, 'reward'], absent: [fresh('score.jsonl')], unchanged: [] });
  cases.push({ name: 'data/generate-prompts-missing-field', argv: ['generate', '--model', policyDir, '--prompts', f('gen-prompts.jsonl', jsonl([{ question: 'hi' }])), '--quiet'], names: ['gen-prompts.jsonl:1'], absent: [], unchanged: [] });
  return cases;
}
