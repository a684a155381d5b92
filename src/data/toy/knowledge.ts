// The toy world's knowledge check: held-out task prompts as multiple-choice questions in steer's
// generic row format ({id, question, options, answer, category}, see src/evaluate/mmlupro.ts):
// the right answer among up to three wrong ones made by the world's own error model (wrongAnswer:
// off-by-one counts and sums, dropped or swapped letters, …), in a seeded random order. Its random
// stream is its own ("toy-knowledge"), so building it changes nothing else the world draws.
import { Rng } from '../../util/rng.js';
import { wrongAnswer } from './styles.js';
import { taskFromPrompt } from './tasks.js';

export interface ToyKnowledgeRow {
  id: string;
  question: string;
  options: string[];
  answer: string;
  category: string;
}

/** Up to `distractors` distinct wrong answers per prompt; prompts that are not toy tasks are skipped. */
export function toyKnowledgeRows(prompts: readonly string[], seed: number, distractors = 3): ToyKnowledgeRow[] {
  const rng = new Rng(seed, 'toy-knowledge');
  const rows: ToyKnowledgeRow[] = [];
  prompts.forEach((prompt, i) => {
    const task = taskFromPrompt(prompt);
    if (!task) return;
    const wrong = new Set<string>();
    for (let tries = 0; tries < 40 && wrong.size < distractors; tries++) {
      const w = wrongAnswer(task, rng);
      if (w !== task.answer && w !== '') wrong.add(w);
    }
    if (wrong.size === 0) return;
    const options = rng.shuffle([task.answer, ...wrong]);
    rows.push({ id: `k${i + 1}`, question: prompt, options, answer: 'ABCDEFGHIJ'[options.indexOf(task.answer)], category: task.kind });
  });
  return rows;
}
