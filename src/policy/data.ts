// Reading the files the policy trainers take, with errors that name file, line and field (the
// readers are data/load.ts's; this adds the policy trainers' shapes and their empty-file errors):
//   SFT rows       {prompt, response}          (the toy world's sft.jsonl, HelpSteer2 rows, …)
//   prompt rows    {prompt}                     (rl-prompts.jsonl; rows with more fields are fine)
//   pairs          {prompt, chosen, rejected, margin?|strength?}, HH-RLHF, LLMBar, or raw
//                  HelpSteer2-Preference rows (aggregated by the paper's rules; ties/spread dropped)
// A prompt is a string or turns ending with a user turn.
import { UserError } from '../util/errors.js';
import { readPairRecords, readPrompts, readSft, type SftExample } from '../data/load.js';
import type { PreferencePair } from '../data/pairs.js';
import type { Prompt } from '../data/helpsteer2.js';

export type { SftExample } from '../data/load.js';

function emptyFile(path: string, what: string, example: string): never {
  throw new UserError({ what: `no ${what} in the file`, where: path, expected: `JSON lines like ${example}`, fix: 'check the path, or write at least one row' });
}

/** SFT examples from a file of {prompt, response} rows. */
export async function readSftFile(path: string): Promise<SftExample[]> {
  const rows = await readSft(path);
  if (rows.length === 0) emptyFile(path, 'SFT rows', '{"prompt": "How many r in strawberry?", "response": "3"}');
  return rows.map(({ prompt, response }) => ({ prompt, response }));
}

/** Prompts from a file of {prompt} rows. */
export async function readPromptsFile(path: string): Promise<Prompt[]> {
  const rows = await readPrompts(path);
  if (rows.length === 0) emptyFile(path, 'prompts', '{"prompt": "How many r in strawberry?"}');
  return rows.map((r) => r.prompt);
}

export interface PairFile {
  pairs: PreferencePair[];
  /** Rows not turned into pairs (ties, spread > 2, identical responses, other split). */
  dropped: number;
}

/**
 * Preference pairs from a file. `split` picks HelpSteer2-Preference / generic rows by their split
 * field ('train' keeps rows without one); raw HelpSteer2-Preference rows are aggregated.
 */
export async function readPairsFile(path: string, opts: { split?: 'train' | 'validation' | 'all' } = {}): Promise<PairFile> {
  const pairs: PreferencePair[] = [];
  let dropped = 0;
  const notPairs = {
    what: (kind: string) => `expected preference pairs, but this is a ${kind} file`,
    fix: 'pass a pair file (e.g. pairs-train.jsonl from `steer data prepare`, or helpsteer2/preference.jsonl of the toy world)',
  };
  for await (const { pair } of readPairRecords(path, { split: opts.split, dropIdentical: true, notPairs })) {
    if (pair) pairs.push(pair);
    else dropped++;
  }
  if (pairs.length === 0) {
    throw new UserError({ what: `no usable preference pairs (${dropped} rows dropped: ties, spread > 2, identical responses or another split)`, where: path, fix: 'check the file and the split' });
  }
  return { pairs, dropped };
}
