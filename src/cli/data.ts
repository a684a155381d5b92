// `steer data toy|stats|prepare`: the toy world, dataset statistics, training-ready files.
// A thin shell: every command validates its config and calls the library in src/data.
import { Command } from 'commander';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { generateToyWorld, writeToyWorld } from '../data/toy/world.js';
import { computeFileStats, formatFileStats } from '../data/stats.js';
import { prepareData } from '../data/prepare.js';
import { prepareOutputDir } from '../io/output.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const fmt = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3));

export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description('datasets: generate the toy world, summarise a file, prepare training-ready files')
    .addHelpText('after', '\nExamples:\n  steer data toy --out toy\n  steer data stats toy/helpsteer2/preference.jsonl\n  steer data prepare --preferences toy/helpsteer2/preference.jsonl --ratings toy/helpsteer2/train.jsonl --ratings-val toy/helpsteer2/validation.jsonl --out prepared');

  const toy = data
    .command('toy')
    .description('generate the toy world: HelpSteer2-format ratings and preferences from a simulated annotator panel, SFT/RL/eval prompt sets, ground truth and the char tokenizer')
    .option('--size <n>', 'prompts in the rated (HelpSteer2) set; SFT, RL and eval sets scale with it', '1000');
  addCommonOptions(toy, { out: 'toy' });
  toy.action(() => {
    const cfg = resolveConfig(toy, z.strictObject({ ...commonSchema, out: z.string().min(1), size: z.coerce.number().int().min(10) }));
    prepareOutputDir(cfg.out, '--out', { create: false });
    announce('data toy', cfg, cfg.quiet);
    const t0 = performance.now();
    const world = generateToyWorld({ seed: cfg.seed, size: cfg.size });
    const written = writeToyWorld(world, cfg.out);
    const p = world.agreement.preferences;
    const h = world.agreement.helpfulness;
    process.stdout.write(
      [
        `toy world (seed ${world.seed}, size ${world.size}) written to ${cfg.out} in ${Math.round(performance.now() - t0)} ms: ${written.length} files`,
        `  ratings      ${world.ratingsTrain.length} train / ${world.ratingsValidation.length} validation responses`,
        `  preferences  ${world.preferences.length} tasks -> ${p.kept} pairs after filters (spread > 2: ${p.droppedSpread}, ties: ${p.droppedTies})`,
        `  sft          ${world.sft.length} examples (${Math.round((100 * world.sft.filter((r) => r.correct).length) / world.sft.length)} % correct)`,
        `  rl / eval    ${world.rlPrompts.length} / ${world.evalPrompts.length} prompts`,
        `  Cohen's kappa (quadratic), preferences: ${fmt(p.before.kappaQuadratic)} before filtering, ${fmt(p.after.kappaQuadratic)} after (HelpSteer2-Preference paper: 0.489 -> 0.878)`,
        `  Cohen's kappa (quadratic), helpfulness: ${fmt(h.before.kappaQuadratic)} all ratings, ${fmt(h.after.kappaQuadratic)} three most similar`,
      ].join('\n') + '\n',
    );
  });

  const stats = data
    .command('stats')
    .description('summarise data files: counts, attribute histograms, annotator agreement (Cohen\'s kappa), lengths')
    .argument('<files...>', 'jsonl, jsonl.gz, json or parquet files (the format is detected from the fields)')
    .option('--json', 'print one JSON object per file', false);
  stats.action(async (files: string[]) => {
    const cfg = resolveConfig(stats, z.strictObject({ json: z.boolean() }));
    for (const f of files) {
      const s = await computeFileStats(f);
      process.stdout.write((cfg.json ? JSON.stringify(s) : formatFileStats(s)) + '\n');
    }
  });

  const prepare = data
    .command('prepare')
    .description('aggregate, filter and split raw files into training-ready pairs-{train,val}.jsonl and ratings-{train,val}.jsonl')
    .option('--preferences <file>', 'HelpSteer2-Preference file (repeatable); aggregated by the three most similar strengths, spread > 2 and ties dropped', collect, [])
    .option('--ratings <file>', 'HelpSteer2 rating file for training (repeatable); per-annotator rows are aggregated', collect, [])
    .option('--ratings-val <file>', 'HelpSteer2 rating file for validation (repeatable)', collect, [])
    .option('--pairs <file>', 'pair file: {prompt, chosen, rejected, margin?}, HH-RLHF or LLMBar (repeatable)', collect, [])
    .option('--val-fraction <x>', 'share of prompts held out where a source has no split', '0.05')
    .option('--max-spread <n>', 'drop tasks whose three most similar annotations span more than this', '2')
    .option('--steerlm', 'also write ratings in NeMo-Aligner SteerLM regression format', false);
  addCommonOptions(prepare, { out: 'prepared' });
  prepare.action(async () => {
    const cfg = resolveConfig(
      prepare,
      z.strictObject({
        ...commonSchema,
        out: z.string().min(1),
        preferences: z.array(z.string()),
        ratings: z.array(z.string()),
        ratingsVal: z.array(z.string()),
        pairs: z.array(z.string()),
        valFraction: z.coerce.number().min(0).max(0.99),
        maxSpread: z.coerce.number().int().min(0).max(6),
        steerlm: z.boolean(),
      }),
    );
    prepareOutputDir(cfg.out, '--out', { create: false });
    announce('data prepare', cfg, cfg.quiet);
    const report = await prepareData(cfg);
    const lines = [`prepared files in ${cfg.out}:`, ...Object.entries(report.outputs).map(([f, n]) => `  ${f.padEnd(28)} ${n} rows`)];
    if (report.preferences) {
      const p = report.preferences;
      lines.push(
        `  preferences: ${p.rows} rows -> ${p.kept} pairs (spread > ${cfg.maxSpread}: ${p.droppedSpread}, ties: ${p.droppedTies}, identical responses: ${p.droppedIdentical}, no annotations: ${p.noAnnotations})`,
        `  Cohen's kappa (quadratic): ${fmt(p.agreement.before.kappaQuadratic)} before filtering, ${fmt(p.agreement.after.kappaQuadratic)} after`,
      );
    }
    if (report.ratings) lines.push(`  ratings: ${report.ratings.rows} rows -> ${report.ratings.kept} kept (helpfulness spread > ${cfg.maxSpread}: ${report.ratings.droppedSpread})`);
    if (report.pairs) lines.push(`  pairs: ${report.pairs.rows} rows (identical responses dropped: ${report.pairs.droppedIdentical})`);
    lines.push(`  report: ${cfg.out}/prepare-report.json`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}
