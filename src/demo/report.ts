// The demo report: one self-contained HTML file (inline SVG plots, inline CSS, no scripts, no
// network). Every number comes from the run's metrics; each key number carries a data-metric
// attribute so tests (and people) can check it against the metrics files.
import { lineChartSvg, groupedBarSvg, type LineSeries } from './plot.js';

export interface RewardModelRow {
  variant: string;
  /** Held-out pair accuracy per seed (0..1). */
  accuracies: number[];
  note?: string;
}

export interface PolicyRow {
  policy: string;
  /** Greedy answers. */
  trueAccuracy: number;
  /** Sampled answers at temperature 1. */
  sampledAccuracy: number;
  rewardScore: number;
  meanLengthChars: number;
}

export interface ProbeRow {
  prompt: string;
  answer: string;
  /** The right answer worked out ("r at 3, 8, 9, so 3."). */
  worked?: string;
  /** Per policy: the greedy answer, and sampled answers at t = 1 when the run kept them. */
  samples: { policy: string; text: string; correct: boolean; sampled?: { text: string; correct: boolean }[] }[];
}

/** A value with its 95 % interval. */
export interface Interval {
  value: number;
  lower: number;
  upper: number;
}

/** One row of the alignment table (the paper's Table: Arena-Hard, AlpacaEval 2 LC, MT-Bench, length) in miniature. */
export interface AlignmentRow {
  policy: string;
  /** Arena-Hard-style score: 100·P(beats the SFT base), Bradley–Terry, 95 % bootstrap interval. */
  arenaHard: Interval;
  /** AlpacaEval-style length-controlled win rate against the SFT base, %, 95 % bootstrap interval over questions (the GLM refitted). */
  alpacaLc: Interval;
  /** MT-Bench-style score, 1–10, 95 % bootstrap interval over questions. */
  mtBench: Interval;
  /** Paired-bootstrap 95 % interval of the MT-Bench-style difference to the SFT base. */
  mtBenchVsBase?: Interval;
  /** Mean length of the greedy answers judged (characters). */
  lengthChars: number;
  /** True accuracy %, greedy; `vsBase` the paired-bootstrap 95 % interval of the difference to the SFT base (points). */
  greedy: number;
  greedyVsBase?: Interval;
  sampled: number;
  sampledVsBase?: Interval;
}

export interface DemoReportData {
  title: string;
  seed: number;
  createdAt: string;
  /** The world's and the rated policy answers' statistics, labelled for people. */
  world: { label: string; value: number | string }[];
  /** The alignment table (absent in runs from before the toy benchmarks). */
  alignment?: AlignmentRow[];
  /** Held-out prompts behind the alignment table. */
  benchmarkQuestions?: number;
  rewardModels: RewardModelRow[];
  policies: PolicyRow[];
  /** Samples per held-out prompt behind the sampled accuracy. */
  samplesPerPrompt: number;
  /** REINFORCE curves by step. */
  reinforce: { step: number; reward: number; kl: number; lengthChars: number; trueAccuracy?: number }[];
  dpo?: { step: number; loss: number }[];
  probes: ProbeRow[];
  /** The knowledge check per policy (absent in runs from before it existed): accuracy, and per task kind. */
  knowledge?: KnowledgeRow[];
  /** the knowledge check's accuracy by uniform guessing */
  knowledgeChance?: number;
  stageSeconds: Record<string, number>;
}

export interface KnowledgeRow {
  policy: string;
  accuracy: number;
  correct: number;
  total: number;
  /** accuracy per category (task kind) */
  categories: Record<string, number>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (x: number) => (100 * x).toFixed(1);

export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
const span = (i: Interval, digits: number, scale = 1) => `<span class="ci">[${(scale * i.lower).toFixed(digits)}, ${(scale * i.upper).toFixed(digits)}]</span>`;

/** The alignment table and what it says: which scores move beyond their 95 % interval for each aligned policy. */
function alignmentSection(rows: readonly AlignmentRow[], questions: number | undefined, samplesPerPrompt: number): string {
  const base = rows[0];
  const cell = (metric: string, p: string, text: string, ci: string) => `<td class="num"><span data-metric="${metric}.${slug(p)}">${text}</span> ${ci}</td>`;
  const gain = (metric: string, p: string, v: number, d: Interval | undefined) =>
    `<td class="num"><span data-metric="${metric}.${slug(p)}">${pct(v)}</span>${d ? ` <span class="gain" data-metric="${metric}-gain.${slug(p)}">${signed(100 * d.value, 1)}</span> ${span(d, 1, 100)}` : ''}</td>`;
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.policy)}</td>` +
        cell('arena', r.policy, r.arenaHard.value.toFixed(1), r === base ? '' : span(r.arenaHard, 1)) +
        cell('alpaca-lc', r.policy, r.alpacaLc.value.toFixed(1), r === base ? '' : span(r.alpacaLc, 1)) +
        cell('mt-bench', r.policy, r.mtBench.value.toFixed(2), span(r.mtBench, 2)) +
        `<td class="num" data-metric="length.${slug(r.policy)}">${r.lengthChars.toFixed(1)}</td>` +
        gain('greedy', r.policy, r.greedy, r.greedyVsBase) +
        gain('sampled', r.policy, r.sampled, r.sampledVsBase) +
        '</tr>',
    )
    .join('\n');
  const verdicts = rows.slice(1).map((r) => {
    const tests: [string, boolean | undefined][] = [
      ['Arena-Hard-style', r.arenaHard.lower > 50 ? true : r.arenaHard.upper < 50 ? false : undefined],
      ['AlpacaEval-LC-style', r.alpacaLc.lower > 50 ? true : r.alpacaLc.upper < 50 ? false : undefined],
      ['MT-Bench-style', r.mtBenchVsBase && (r.mtBenchVsBase.lower > 0 ? true : r.mtBenchVsBase.upper < 0 ? false : undefined)],
      ['greedy accuracy', r.greedyVsBase && (r.greedyVsBase.lower > 0 ? true : r.greedyVsBase.upper < 0 ? false : undefined)],
      ['sampled accuracy', r.sampledVsBase && (r.sampledVsBase.lower > 0 ? true : r.sampledVsBase.upper < 0 ? false : undefined)],
    ];
    const list = (v: boolean | undefined) => tests.filter(([, t]) => t === v).map(([n]) => n);
    const parts = [
      list(true).length ? `better than the SFT base beyond noise on ${list(true).join(', ')}` : 'better than the SFT base beyond noise on nothing',
      list(false).length ? `worse on ${list(false).join(', ')}` : '',
      list(undefined).length ? `within noise on ${list(undefined).join(', ')}` : '',
    ].filter(Boolean);
    return `<li><b>${esc(r.policy)}</b>: ${parts.join('; ')}.</li>`;
  });
  return `<h2 id="alignment">The alignment table in miniature</h2>
<p>The paper's headline table (Arena-Hard, AlpacaEval 2 length-controlled, MT-Bench, response length) for the toy world,
on ${questions ?? '?'} held-out prompts, with the world's annotator panel as the judge — it knows the right answers and has
the panel's biases (position, leniency, careless raters, a taste for the longer right answer). The scores are computed by
steer's real benchmark code: Arena-Hard-style = 100 · P(beats the SFT base) from a Bradley–Terry fit of both-order games
(95 % bootstrap interval), AlpacaEval-LC-style = the length-controlled win rate against the SFT base from alpaca_eval's GLM
(95 % bootstrap interval over questions, the GLM refitted each time), MT-Bench-style = the mean 1–10 grade (95 % bootstrap interval over questions). Each policy's greedy
answers are judged. The last two columns are the true accuracy from the world's ground truth — greedy, and sampled at t = 1
(${samplesPerPrompt} per prompt) — with the change from the SFT base and its paired-bootstrap 95 % interval (points).
The SFT base is every pairwise benchmark's baseline: 50 by construction.</p>
<table id="alignment-table"><tr><th>policy</th><th>Arena-Hard-style</th><th>AlpacaEval-LC-style %</th><th>MT-Bench-style (1–10)</th><th>mean length (chars)</th><th>true accuracy % greedy</th><th>true accuracy % sampled</th></tr>
${body}
</table>
<p><b>What to conclude</b> (an interval that excludes the SFT base's value is a change beyond noise):</p><ul>${verdicts.join('')}</ul>`;
}

export async function renderDemoReport(d: DemoReportData): Promise<string> {
  const rmRows = d.rewardModels
    .map((r) => {
      const { mean, std } = meanStd(r.accuracies);
      const spread = r.accuracies.length > 1 ? ` ± ${pct(std)}` : '';
      return `<tr><td>${esc(r.variant)}</td><td class="num" data-metric="rm.${slug(r.variant)}">${pct(mean)}${spread}</td><td class="num">${r.accuracies.length}</td><td>${esc(r.note ?? '')}</td></tr>`;
    })
    .join('\n');
  const policyRows = d.policies
    .map(
      (p) =>
        `<tr><td>${esc(p.policy)}</td><td class="num" data-metric="accuracy.${slug(p.policy)}">${pct(p.trueAccuracy)}</td>` +
        `<td class="num" data-metric="sampled-accuracy.${slug(p.policy)}">${pct(p.sampledAccuracy)}</td>` +
        `<td class="num" data-metric="reward.${slug(p.policy)}">${p.rewardScore.toFixed(3)}</td><td class="num">${p.meanLengthChars.toFixed(1)}</td></tr>`,
    )
    .join('\n');
  const curves: LineSeries[] = [{ name: 'RM reward', points: d.reinforce.map((r) => ({ x: r.step, y: r.reward })) }];
  if (d.reinforce.some((r) => r.trueAccuracy !== undefined)) {
    curves.push({ name: 'true accuracy', points: d.reinforce.filter((r) => r.trueAccuracy !== undefined).map((r) => ({ x: r.step, y: r.trueAccuracy as number })) });
  }
  const rewardSvg = await lineChartSvg(curves, { title: 'REINFORCE: reward', xTitle: 'step', yTitle: 'value' });
  const klSvg = await lineChartSvg([{ name: 'KL to reference', points: d.reinforce.map((r) => ({ x: r.step, y: r.kl })) }], {
    title: 'REINFORCE: KL(π‖π_ref), token mean',
    xTitle: 'step',
    yTitle: 'KL',
  });
  const lenSvg = await lineChartSvg([{ name: 'response length', points: d.reinforce.map((r) => ({ x: r.step, y: r.lengthChars })) }], {
    title: 'REINFORCE: response length',
    xTitle: 'step',
    yTitle: 'characters',
  });
  const accSvg = await groupedBarSvg(
    d.policies.flatMap((p) => [
      { group: p.policy, label: 'greedy', value: 100 * p.trueAccuracy },
      { group: p.policy, label: 'sampled (t = 1)', value: 100 * p.sampledAccuracy },
    ]),
    { title: 'True task accuracy', xTitle: 'policy', yTitle: '%' },
  );
  const dpoSvg = d.dpo?.length
    ? await lineChartSvg([{ name: 'DPO loss', points: d.dpo.map((r) => ({ x: r.step, y: r.loss })) }], { title: 'DPO: loss', xTitle: 'step', yTitle: 'loss' })
    : '';
  const probeRows = d.probes
    .map((p) => {
      const mark = (ok: boolean) => (ok ? '<span class="ok">✔</span>' : '<span class="bad">✘</span>');
      const samples = p.samples
        .map((s) => {
          const sampled = s.sampled?.length ? `<br>sampled: ${s.sampled.map((x) => `<code>${esc(x.text)}</code> ${mark(x.correct)}`).join(' · ')}` : '';
          return `<li><b>${esc(s.policy)}</b>: <code>${esc(s.text)}</code> ${mark(s.correct)}${sampled}</li>`;
        })
        .join('');
      return `<tr><td><code>${esc(p.prompt)}</code></td><td><code>${esc(p.answer)}</code>${p.worked ? `<br><span class="caption">worked: <code>${esc(p.worked)}</code></span>` : ''}</td><td><ul>${samples}</ul></td></tr>`;
    })
    .join('\n');
  const kCats = [...new Set((d.knowledge ?? []).flatMap((k) => Object.keys(k.categories)))];
  const knowledgeSection = d.knowledge?.length
    ? `<h2 id="knowledge">Knowledge check: did alignment keep what SFT taught?</h2>
<p>Held-out toy-world questions as multiple choice — the right answer among wrong ones the world's own error model makes —
answered by the option each policy finds most likely as its whole response, and scored with MMLU-Pro's scoring code
(accuracy overall and per task kind). A uniform guess scores ${d.knowledgeChance === undefined ? '1 / options' : `${pct(d.knowledgeChance)} %`}.</p>
<table id="knowledge-table"><tr><th>policy</th><th>accuracy %</th><th>correct</th>${kCats.map((c) => `<th>${esc(c)} %</th>`).join('')}</tr>
${d.knowledge
  .map(
    (k) =>
      `<tr><td>${esc(k.policy)}</td><td class="num" data-metric="knowledge.${slug(k.policy)}">${pct(k.accuracy)}</td><td class="num">${k.correct} / ${k.total}</td>` +
      kCats.map((c) => `<td class="num">${k.categories[c] === undefined ? '' : pct(k.categories[c])}</td>`).join('') +
      '</tr>',
  )
  .join('\n')}
</table>`
    : '';
  const worldRows = d.world
    .map(({ label, value: v }) => `<tr><td>${esc(label)}</td><td class="num">${esc(typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v))}</td></tr>`)
    .join('');
  const stageRows = Object.entries(d.stageSeconds)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v.toFixed(1)}</td></tr>`)
    .join('');
  const alignment = d.alignment?.length ? alignmentSection(d.alignment, d.benchmarkQuestions, d.samplesPerPrompt) : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.3em .6em;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:1em}.ok{color:#080}.bad{color:#b00}ul{margin:0;padding-left:1.2em}
code{background:#f6f6f6;padding:0 .2em}.ci{color:#666;font-size:.9em}.gain{font-weight:600}
figure{margin:0;max-width:440px}figcaption,.caption{color:#444;font-size:.92em}
</style></head><body>
<h1>${esc(d.title)}</h1>
<p>Seed ${d.seed} · ${esc(d.createdAt)}. The Nemotron recipe in miniature on steer's toy world: a simulated
annotator panel rates the world's responses and the SFT policy's own sampled answers (ratings and preferences);
reward models learn from those; REINFORCE (leave-one-out baseline, KL penalty) optimises the best of them, with
DPO for comparison. True accuracy is checked against the toy world's ground truth, not the reward model.</p>
${alignment}
<h2 id="reward-models">Reward models: held-out preference accuracy, % (pairs of the world's responses and of the policy's answers)</h2>
<p class="caption">How often each reward model prefers the response the panel preferred, on preference pairs whose prompts no
model trained on. REINFORCE optimises the best of them (marked), as the paper aligned with its best RewardBench model;
the differences between the three are usually within a point — a near tie, not a ranking.</p>
<table id="rm-table"><tr><th>variant</th><th>accuracy %</th><th>seeds</th><th>note</th></tr>
${rmRows}
</table>
<h2 id="policies">Policies</h2>
<p class="caption">True task accuracy on the held-out prompts (the world's ground truth), the reward model's mean score of the greedy
answers, and their length. The reward column is what REINFORCE optimised; accuracy is what it was meant to improve — a
reward that rises while accuracy does not would be reward hacking.</p>
<table id="policy-table"><tr><th>policy</th><th>true accuracy % (greedy)</th><th>true accuracy % (sampled, t = 1, ${d.samplesPerPrompt} per prompt)</th><th>RM reward</th><th>mean length (chars)</th></tr>
${policyRows}
</table>
<div class="plots">
<figure>${accSvg}<figcaption>True accuracy per policy, greedy and sampled. Conclude from the gap between a policy's bars and the SFT base's:
sampled accuracy is what REINFORCE optimises directly; greedy accuracy moves only when the right answer becomes the most likely one.</figcaption></figure>
<figure>${rewardSvg}<figcaption>The reward model's mean score of REINFORCE's samples per step (training prompts). A rising curve means the
policy learns what the reward model prefers; check the accuracy table to see whether that is the right answers.</figcaption></figure>
<figure>${klSvg}<figcaption>KL divergence from the SFT policy per step (token mean). It should stay small: the KL penalty keeps REINFORCE
near the policy the reward model was trained on, where its judgments hold.</figcaption></figure>
<figure>${lenSvg}<figcaption>Mean length of REINFORCE's samples per step. A steady climb would be the length bias the paper's
length-controlled metrics guard against; a moderate change is a change of answer format.</figcaption></figure>
${dpoSvg ? `<figure>${dpoSvg}<figcaption>DPO's loss per step on the preference pairs (ln 2 ≈ 0.693 at the start). Falling loss means the
policy's log-probability margins follow the panel's preferences.</figcaption></figure>` : ''}
</div>
${knowledgeSection}
<h2 id="probes">The strawberry probe and friends</h2>
<p class="caption">Letter counts that trip up real language models, never in the SFT data (the world rates them and REINFORCE trains on
them, by design). A worked answer lists the positions ("r at 3, 8, 9, so 3"); the mark says whether the final answer is right.</p>
<table id="probe-table"><tr><th>prompt</th><th>answer</th><th>answers (greedy; sampled at t = 1)</th></tr>
${probeRows}
</table>
<h2>Toy world and rated policy samples</h2>
<p class="caption">The data the recipe learned from: the world's rated responses and preference pairs, the SFT set, and the SFT
policy's own answers rated by the same panel (the on-policy ratings the reward models learn its mistakes from).</p>
<table id="world-table">${worldRows}</table>
<h2>Time per stage (s)</h2><table id="stage-table">${stageRows}</table>
</body></html>
`;
}
