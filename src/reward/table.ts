// The HelpSteer2-Preference paper's Table 1 in miniature: every reward-model variant trained on
// the same data, held-out pair accuracy per seed.
//   regression (5 attributes; reward = Nemotron-4-340B weights, and its helpfulness slot alone)
//   regression (helpfulness only)
//   BT, margin BT, Scaled BT — from scratch
//   BT, margin BT, Scaled BT — initialised from the helpfulness-only regression model (head kept)
//   Scaled BT from regression + ExPO (α = 1.52, weak = the regression model)
// The demo and bench/rm_table.ts call runRewardModelTable; each variant is one trainRewardModel,
// and the recipe's three (helpfulness regression, Scaled BT from it, ExPO) are the one combined
// recipe of recipe.ts.
import { join } from 'node:path';
import { HELPSTEER2_ATTRIBUTES } from '../data/helpsteer2.js';
import type { RewardLossKind } from './losses.js';
import { trainRewardModel, type RewardTrainOptions, type ScratchModel } from './train.js';
import { COMBINED_RECIPE, runCombinedRecipe } from './recipe.js';
import { loadRewardModel } from './model.js';
import { evaluatePairs } from './evaluate.js';
import { rewardWeights } from './head.js';
import type { RatedRow, RewardPair } from './data.js';

export interface TableVariant {
  /** Row label (the paper's wording). */
  name: string;
  /** Short id: run directory name and JSON key. */
  id: string;
}

export const TABLE_VARIANTS: readonly TableVariant[] = [
  { id: 'reg5', name: 'Regression, 5 attributes (Nemotron-4-340B weights)' },
  { id: 'reg5-help', name: 'Regression, 5 attributes (helpfulness slot)' },
  { id: 'reg-help', name: 'Regression, helpfulness only' },
  { id: 'bt', name: 'Bradley-Terry (from scratch)' },
  { id: 'margin-bt', name: 'BT with margin (from scratch)' },
  { id: 'scaled-bt', name: 'Scaled BT (from scratch)' },
  { id: 'bt-init', name: 'Bradley-Terry (init. regression)' },
  { id: 'margin-bt-init', name: 'BT with margin (init. regression)' },
  { id: 'scaled-bt-init', name: 'Scaled BT (init. regression)' },
  { id: 'scaled-bt-init-expo', name: 'Scaled BT (init. regression) + ExPO' },
];

export interface RewardTableOptions {
  trainPairs: readonly RewardPair[];
  trainRatings: readonly RatedRow[];
  /** Held-out pairs every variant is scored on. */
  valPairs: readonly RewardPair[];
  out: string;
  seeds: readonly number[];
  scratch?: Partial<ScratchModel>;
  /**
   * A language model (directory) that every variant not initialised from regression starts from,
   * with a new head — the paper starts its reward models from the instruct model. Absent: the
   * variants start from random weights (`scratch` sizes).
   */
  base?: string;
  /** Passes over the rated rows (regression) and over the pairs (BT variants). */
  ratingEpochs?: number;
  pairEpochs?: number;
  lr?: number;
  /** Learning rate of the variants initialised from regression (default the recipe's 3e-4: they start from a trained model). */
  initLr?: number;
  batchSize?: number;
  alpha?: number;
  threads?: number;
  quiet?: boolean;
  /** Only these variant ids (their prerequisites are trained as needed). */
  only?: readonly string[];
  /** Called after each variant and seed. */
  onResult?: (r: { id: string; seed: number; accuracy: number; seconds: number }) => void;
}

export interface RewardTableRow extends TableVariant {
  /** Held-out accuracy per seed (0..1), in the order of opts.seeds. */
  accuracies: number[];
  meanMargins: number[];
  /** Training seconds per seed (0 for ExPO and re-read slots). */
  seconds: number[];
}

/** Train and evaluate every variant for every seed. */
export async function runRewardModelTable(o: RewardTableOptions): Promise<RewardTableRow[]> {
  const rows = new Map<string, RewardTableRow>(TABLE_VARIANTS.map((v) => [v.id, { ...v, accuracies: [], meanMargins: [], seconds: [] }]));
  const want = (id: string) => !o.only || o.only.includes(id);
  const needsRegHelp = ['reg-help', 'bt-init', 'margin-bt-init', 'scaled-bt-init', 'scaled-bt-init-expo'].some(want);
  const common = (seed: number): Partial<RewardTrainOptions> => ({ seed, scratch: o.scratch, init: o.base, batchSize: o.batchSize ?? 16, threads: o.threads ?? 2, quiet: o.quiet ?? true, valPairs: o.valPairs, resume: false });
  for (const seed of o.seeds) {
    const dir = (id: string) => join(o.out, `seed${seed}`, id);
    const record = async (id: string, modelDir: string, seconds: number, weights?: number[]) => {
      const m = loadRewardModel(modelDir);
      if (weights) m.info.rewardWeights = weights;
      const e = await evaluatePairs(m, o.valPairs, { threads: o.threads });
      const row = rows.get(id)!;
      row.accuracies.push(e.overall.accuracy);
      row.meanMargins.push(e.overall.meanMargin);
      row.seconds.push(seconds);
      o.onResult?.({ id, seed, accuracy: e.overall.accuracy, seconds });
    };
    const train = async (id: string, loss: RewardLossKind, extra: Partial<RewardTrainOptions>) => {
      const t0 = performance.now();
      const r = await trainRewardModel({ ...common(seed), loss, out: dir(id), ...extra } as RewardTrainOptions);
      return { dir: r.modelDir, seconds: (performance.now() - t0) / 1000 };
    };
    const lr = o.lr ?? COMBINED_RECIPE.regressionLr;
    const initLr = o.initLr ?? COMBINED_RECIPE.scaledBtLr;
    const ratingEpochs = o.ratingEpochs ?? COMBINED_RECIPE.epochs;
    const pairEpochs = o.pairEpochs ?? COMBINED_RECIPE.epochs;
    const pairRun = { trainPairs: o.trainPairs, epochs: pairEpochs, lr };

    if (want('reg5') || want('reg5-help')) {
      const r = await train('reg5', 'regression', { trainRatings: o.trainRatings, epochs: ratingEpochs, lr, attributes: [...HELPSTEER2_ATTRIBUTES] });
      if (want('reg5')) await record('reg5', r.dir, r.seconds);
      if (want('reg5-help')) await record('reg5-help', r.dir, 0, rewardWeights([...HELPSTEER2_ATTRIBUTES], 'helpfulness'));
    }
    // The combined recipe: helpfulness regression → Scaled BT from it → ExPO (as far as wanted).
    const expoWanted = want('scaled-bt-init-expo');
    const recipe = needsRegHelp
      ? await runCombinedRecipe({
          trainRatings: o.trainRatings, trainPairs: o.trainPairs, valPairs: o.valPairs, out: dir('recipe'),
          dirs: { regression: dir('reg-help'), scaledBt: dir('scaled-bt-init'), expo: dir('scaled-bt-init-expo') },
          common: common(seed), ratingEpochs, pairEpochs, lr, initLr, alpha: o.alpha, evaluateExpo: false,
          until: expoWanted ? 'expo' : want('scaled-bt-init') ? 'scaled-bt' : 'regression',
        })
      : null;
    if (recipe && want('reg-help')) await record('reg-help', recipe.regression.dir, recipe.regression.seconds);
    for (const loss of ['bt', 'margin-bt', 'scaled-bt'] as const) {
      if (want(loss)) {
        const r = await train(loss, loss, pairRun);
        await record(loss, r.dir, r.seconds);
      }
      const id = `${loss}-init`;
      if (loss === 'scaled-bt') {
        if (want(id)) await record(id, recipe!.scaledBt!.dir, recipe!.scaledBt!.seconds);
        if (expoWanted) await record('scaled-bt-init-expo', recipe!.expo!.dir, 0);
      } else if (want(id)) {
        const r = await train(id, loss, { ...pairRun, lr: initLr, init: recipe!.regression.dir });
        await record(id, r.dir, r.seconds);
      }
    }
  }
  return [...rows.values()].filter((r) => r.accuracies.length > 0);
}
