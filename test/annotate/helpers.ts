// Shared by the annotate tests: answers built by hand.
import type { Answer, Ratings } from '../../src/annotate/store.js';

export const ratings = (helpfulness: number, rest = 2): Ratings => ({ helpfulness, correctness: rest, coherence: rest, complexity: rest, verbosity: rest });

/** 13 words: inside the guideline's 10–50. */
export const JUSTIFICATION = 'Response one answers the question directly. Response two wanders off the topic entirely.';

export function answer(h1: number, h2: number, preference: number, opts: Partial<Answer> = {}): Answer {
  return { flags: [], ratings: [ratings(h1), ratings(h2)], unsafe: [false, false], preference, justification: JUSTIFICATION, ...opts };
}

export const TASKS = [
  { prompt: 'How many r in strawberry?', response1: 'There are 3.', response2: 'There are 2.', source: 'test:1' },
  { prompt: 'Spell cat backwards.', response1: 'tac', response2: 'act', source: 'test:2' },
  { prompt: 'What is 2 + 2?', response1: '4', response2: 'Four, because two and two make four.', source: 'test:3' },
];
