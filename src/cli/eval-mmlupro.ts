// `steer eval mmlu-pro`: MMLU-Pro's official CoT protocol against a local policy (--model) or an
// OpenAI-compatible endpoint (--policy-url), resumable; or scoring outputs that already exist
// (--outputs, e.g. the official eval_results/*.zip). Also any multiple-choice set in the generic
// row format. A thin shell over src/evaluate/mmlupro*.ts.
import { Command } from 'commander';
import { join } from 'node:path';
import { z } from 'zod';
import { addCommonOptions, announce, commonSchema, resolveConfig } from './command.js';
import { UserError } from '../util/errors.js';
import { startProgress } from '../util/progress.js';
import { loadPolicy } from '../policy/model.js';
import { JudgeClient } from '../evaluate/judge.js';
import { EndpointAnswerPolicy, LocalAnswerPolicy, type AnswerPolicy } from '../evaluate/answers.js';
import { exemplarsByCategory, MMLU_PRO_MAX_TOKENS, parseQuestions, readMultipleChoice, readQuestionRecords, scoreOutputs, type MultipleChoiceQuestion } from '../evaluate/mmlupro.js';
import { mmluProTable, runMmluPro, writeMmluProResults } from '../evaluate/mmlupro-run.js';

const int = z.coerce.number().int();
const collect = (v: string, prev: string[]) => [...prev, v];

export function registerEvalMmluPro(program: Command): void {
  const ev = program.commands.find((c) => c.name() === 'eval') ?? program.command('eval').description('evaluations');
  const cmd = ev
    .command('mmlu-pro')
    .description("MMLU-Pro's official protocol: CoT prompt, temperature 0, the official answer extraction and seeded random fallback, accuracy overall and per category (also any multiple-choice set)")
    .option('--questions <file>', 'test questions: MMLU-Pro (.parquet / .json / .jsonl / .zip) or generic rows {id?, question, options, answer: "B" | answer_index, category?}')
    .option('--validation <file>', "MMLU-Pro's validation split (rows with cot_content): 5-shot CoT exemplars of each question's category (default 0-shot)")
    .option('--shots <k>', 'exemplars per question when --validation is given', '5')
    .option('--model <path>', 'answer with this steer / Hugging Face model directory (or llama2.c .bin with --tokenizer)')
    .option('--tokenizer <path>', 'tokenizer for --model (default: the one in the model directory)')
    .option('--policy-url <url>', 'answer with an OpenAI-compatible endpoint (…/v1): vLLM, steer serve, an API')
    .option('--policy-model <name>', 'model name sent to --policy-url')
    .option('--api-key <key>', 'API key for --policy-url (default: the OPENAI_API_KEY environment variable)')
    .option('--outputs <file>', 'score existing outputs instead: rows with the question fields and generated_text or model_outputs (e.g. eval_results/model_outputs_*.zip)')
    .option('--max-new-tokens <n>', 'completion budget (evaluate_from_api.py: 4000)', String(MMLU_PRO_MAX_TOKENS))
    .option('--category <name>', 'only this category (repeatable)', collect, [])
    .option('--limit <n>', 'only the first n questions (after --category): a smoke test')
    .option('--fallback <mode>', 'random fallback for answers without a letter: stream (compute_accuracy.py today: seeded once) | reseed (the code that scored the published outputs)', 'stream')
    .option('--batch-size <n>', 'questions per batch (answers are saved after each)', '16')
    .option('--concurrency <n>', 'requests in flight to --policy-url', '4')
    .option('--max-retries <n>', 'retries on 429/5xx/timeouts, with exponential backoff', '6')
    .option('--timeout-ms <n>', 'per-request timeout for --policy-url', '600000')
    .option('--json', 'print the results as JSON', false)
    .addHelpText(
      'after',
      '\nAnswers are cached one JSON line per question in OUT/outputs.jsonl: rerunning the same command resumes.\n' +
        'OUT/official/all_result.json holds the rows as the official scripts save them: `python compute_accuracy.py OUT/official` recounts.\n\n' +
        'Examples:\n' +
        '  steer eval mmlu-pro --questions test-00000-of-00001.parquet --validation validation-00000-of-00001.parquet --policy-url http://127.0.0.1:8000/v1 --policy-model my-model\n' +
        '  steer eval mmlu-pro --questions my-knowledge.jsonl --model runs/sft/model --max-new-tokens 256\n' +
        '  steer eval mmlu-pro --outputs model_outputs_Meta-Llama-3_1-70B-Instruct_5shots.zip --fallback reseed',
    );
  addCommonOptions(cmd, { out: 'runs/eval-mmlu-pro' });
  cmd.action(async () => {
    const cfg = resolveConfig(
      cmd,
      z.strictObject({
        ...commonSchema,
        out: z.string().min(1),
        questions: z.string().min(1).optional(),
        validation: z.string().min(1).optional(),
        shots: int.min(0),
        model: z.string().min(1).optional(),
        tokenizer: z.string().min(1).optional(),
        policyUrl: z.string().min(1).optional(),
        policyModel: z.string().min(1).optional(),
        apiKey: z.string().optional(),
        outputs: z.string().min(1).optional(),
        maxNewTokens: int.min(1),
        category: z.array(z.string().min(1)),
        limit: int.min(1).optional(),
        fallback: z.enum(['stream', 'reseed']),
        batchSize: int.min(1),
        concurrency: int.min(1),
        maxRetries: int.min(0),
        timeoutMs: int.min(1),
        json: z.boolean(),
      }),
    );
    announce('eval mmlu-pro', cfg, cfg.quiet);
    const select = (qs: MultipleChoiceQuestion[], where: string) => {
      let out = cfg.category.length ? qs.filter((q) => cfg.category.includes(q.category)) : qs;
      if (out.length === 0) throw new UserError({ what: `no question is in the categories ${cfg.category.join(', ')}`, where: '--category', fix: `pick from: ${[...new Set(qs.map((q) => q.category))].join(', ')} (${where})` });
      if (cfg.limit !== undefined) out = out.slice(0, cfg.limit);
      return out;
    };

    if (cfg.outputs) {
      if (cfg.model || cfg.policyUrl || cfg.questions) throw new UserError({ what: '--outputs scores existing answers; it takes no --questions, --model or --policy-url', where: '--outputs', fix: 'drop --outputs to generate answers, or the others to score the file' });
      const recs = await readQuestionRecords(cfg.outputs);
      const questions = select(parseQuestions(recs, cfg.outputs), cfg.outputs);
      const rows = questions.map((q) => {
        const text = q.row.model_outputs ?? q.row.generated_text;
        if (typeof text !== 'string') throw new UserError({ what: 'the row has no answer text', where: q.where, expected: '"generated_text" or "model_outputs": the model\'s response', fix: 'pass result rows (the question fields plus the response)' });
        return { question: q, output: text };
      });
      const score = scoreOutputs(rows, { fallback: cfg.fallback });
      const results = writeMmluProResults(cfg.out, score, { source: cfg.outputs, fallback: cfg.fallback });
      print(cfg.out, results, mmluProTable(score), cfg.json, cfg.quiet);
      return;
    }

    if (!cfg.questions) throw new UserError({ what: 'nothing to evaluate: pass --questions (with --model or --policy-url), or --outputs', where: '--questions', fix: 'steer eval mmlu-pro --questions test.parquet --model DIR' });
    if (Boolean(cfg.model) === Boolean(cfg.policyUrl)) throw new UserError({ what: cfg.model ? 'pass --model or --policy-url, not both' : 'no policy to answer: pass --model DIR or --policy-url URL', where: '--model / --policy-url', fix: 'steer eval mmlu-pro --questions FILE --model runs/sft/model' });
    const questions = select(await readMultipleChoice(cfg.questions), cfg.questions);
    const exemplars = cfg.validation && cfg.shots > 0 ? exemplarsByCategory(await readMultipleChoice(cfg.validation, { exemplar: true }), cfg.shots) : null;
    if (exemplars) {
      const missing = [...new Set(questions.map((q) => q.category))].filter((c) => !exemplars.has(c));
      if (missing.length) throw new UserError({ what: `the validation file has no exemplars for ${missing.join(', ')}`, where: cfg.validation, fix: "pass MMLU-Pro's validation split (5 rows per category), or drop --validation for 0-shot" });
    }
    let policy: AnswerPolicy;
    if (cfg.model) {
      policy = new LocalAnswerPolicy(loadPolicy(cfg.model, { tokenizer: cfg.tokenizer }), cfg.model, { threads: cfg.threads, batchSize: cfg.batchSize });
    } else {
      if (!cfg.policyModel) throw new UserError({ what: '--policy-url needs the model name to send', where: '--policy-model', fix: 'pass --policy-model NAME (the name the endpoint serves)' });
      const client = new JudgeClient({ baseUrl: cfg.policyUrl!, model: cfg.policyModel, apiKey: cfg.apiKey ?? process.env.OPENAI_API_KEY, concurrency: cfg.concurrency, maxRetries: cfg.maxRetries, timeoutMs: cfg.timeoutMs, cachePath: join(cfg.out, 'request-cache.jsonl') });
      policy = new EndpointAnswerPolicy(client, cfg.policyModel);
    }
    const bar = startProgress('mmlu-pro', questions.length, { quiet: cfg.quiet });
    let run;
    try {
      run = await runMmluPro({ questions, exemplars, policy, out: cfg.out, maxNewTokens: cfg.maxNewTokens, cutAtQuestion: Boolean(cfg.model), fallback: cfg.fallback, chunk: cfg.batchSize, seed: cfg.seed, onProgress: (d) => bar.update(d) });
    } finally {
      bar.stop();
      await policy.close();
    }
    const shots = exemplars ? cfg.shots : 0;
    const results = writeMmluProResults(cfg.out, run.score, { model: policy.name, questions: cfg.questions, shots, max_new_tokens: cfg.maxNewTokens, fallback: cfg.fallback, resumed: run.resumed, truncated_prompts: run.truncatedPrompts });
    let text = mmluProTable(run.score) + `\n${shots}-shot; ${run.resumed} answer(s) read back from ${join(cfg.out, 'outputs.jsonl')}`;
    if (run.truncatedPrompts) text += `; ${run.truncatedPrompts} prompt(s) longer than the model's context kept their last tokens`;
    print(cfg.out, results, text, cfg.json, cfg.quiet);
  });
}

function print(out: string, results: unknown, text: string, json: boolean, quiet: boolean): void {
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(text + '\n');
  if (!quiet) process.stderr.write(`results written to ${join(out, 'results.json')} and results.txt\n`);
}
