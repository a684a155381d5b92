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
  /** Per policy: the greedy answer, and sampled answers at t = 1 when the run kept them. */
  samples: { policy: string; text: string; correct: boolean; sampled?: { text: string; correct: boolean }[] }[];
}

export interface DemoReportData {
  title: string;
  seed: number;
  createdAt: string;
  world: Record<string, number | string>;
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
      return `<tr><td><code>${esc(p.prompt)}</code></td><td><code>${esc(p.answer)}</code></td><td><ul>${samples}</ul></td></tr>`;
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
  const worldRows = Object.entries(d.world)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v))}</td></tr>`)
    .join('');
  const stageRows = Object.entries(d.stageSeconds)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${v.toFixed(1)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.3em .6em;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:1em}.ok{color:#080}.bad{color:#b00}ul{margin:0;padding-left:1.2em}
code{background:#f6f6f6;padding:0 .2em}
</style></head><body>
<h1>${esc(d.title)}</h1>
<p>Seed ${d.seed} · ${esc(d.createdAt)}. The Nemotron recipe in miniature on steer's toy world: a simulated
annotator panel rates the world's responses and the SFT policy's own sampled answers (ratings and preferences);
reward models learn from those; REINFORCE (leave-one-out baseline, KL penalty) optimises the best of them, with
DPO for comparison. True accuracy is checked against the toy world's ground truth, not the reward model.</p>
<h2 id="reward-models">Reward models: held-out preference accuracy, % (pairs of the world's responses and of the policy's answers)</h2>
<table id="rm-table"><tr><th>variant</th><th>accuracy %</th><th>seeds</th><th>note</th></tr>
${rmRows}
</table>
<h2 id="policies">Policies</h2>
<table id="policy-table"><tr><th>policy</th><th>true accuracy % (greedy)</th><th>true accuracy % (sampled, t = 1, ${d.samplesPerPrompt} per prompt)</th><th>RM reward</th><th>mean length (chars)</th></tr>
${policyRows}
</table>
<div class="plots">${accSvg}${rewardSvg}${klSvg}${lenSvg}${dpoSvg}</div>
${knowledgeSection}
<h2 id="probes">The strawberry probe and friends</h2>
<table id="probe-table"><tr><th>prompt</th><th>answer</th><th>answers (greedy; sampled at t = 1)</th></tr>
${probeRows}
</table>
<h2>Toy world and rated policy samples</h2><table>${worldRows}</table>
<h2>Time per stage (s)</h2><table>${stageRows}</table>
</body></html>
`;
}
