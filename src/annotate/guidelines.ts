// What an annotator is asked, in the words of the guidelines HelpSteer2 and HelpSteer2-Preference
// were collected with. The studio shows these beside every choice and validates answers against them.
//
// Sources:
// - Ratings, flags and level wording: HelpSteer2 (Wang et al., arXiv 2406.08673), Appendix G
//   "Annotation Guidelines" — G.2 (flagging invalid tasks), G.3.1 (detailed rating breakdown for
//   helpfulness, correctness, coherence, complexity, verbosity; safe/unsafe). The level texts below
//   are that breakdown, shortened where a sentence only repeated the level's title.
// - Preference: HelpSteer2-Preference (arXiv 2410.01257) as summarised in HelpSteer3-Preference
//   (arXiv 2505.11475 §2): 3–5 annotators per task choose one of −3, −2, −1, 1, 2, 3 ("response 1
//   is much better … response 2 is much better") or −100 "neither response is valid", with a
//   justification of 1–2 sentences, i.e. 10–50 English words. There is no 0: a tie only arises
//   from aggregation (and is then dropped, see src/data/aggregate.ts).
import { HELPSTEER2_ATTRIBUTES, type HelpSteer2Attribute } from '../data/helpsteer2.js';

export const GUIDELINE_SOURCE =
  'HelpSteer2 (arXiv 2406.08673) Appendix G, Annotation Guidelines; preference scale and justification length: HelpSteer2-Preference (arXiv 2410.01257), as described in HelpSteer3-Preference (arXiv 2505.11475) §2';

export interface AttributeGuideline {
  attribute: HelpSteer2Attribute;
  /** The guideline's name for the axis. */
  title: string;
  question: string;
  /** levels[v] = the wording for rating v (0 … 4). */
  levels: [string, string, string, string, string];
}

export const ATTRIBUTE_GUIDELINES: readonly AttributeGuideline[] = [
  {
    attribute: 'helpfulness',
    title: 'Helpfulness / Understanding',
    question: 'How useful and helpful is the response overall?',
    levels: [
      'Not useful or helpful at all; it completely missed the essence of what the user wanted.',
      'Borderline unhelpful: mostly does not capture what the user was looking for, but still usable and helpful in a small way.',
      'Partially helpful, but misses the overall goal of the user’s query in some way; it did not fully satisfy the user.',
      'Mostly helpful and mainly aligned with what the user was looking for, with still some room for improvement.',
      'Extremely helpful and completely aligned with the spirit of what the prompt was asking for.',
    ],
  },
  {
    attribute: 'correctness',
    title: 'Correctness / Completeness',
    question: 'Is it based on facts, with no hallucinations or mistakes, and does it cover everything the instruction requires?',
    levels: [
      'Completely incorrect: all information is wrong, false or hallucinated; the task is not attempted, the wrong task is attempted, or the response is irrelevant.',
      'Some correct elements but mostly wrong or incomplete; may contain several hallucinations or false, misleading or irrelevant information; a task is attempted with little success.',
      'A mix of correct and incorrect information: may miss details or contain misleading information or minor hallucinations, but more or less aligned with the prompt; a task is attempted with moderate success.',
      'Mostly accurate and correct with a small amount of missing information; no misleading information or hallucinations; a task is mostly done.',
      'Completely correct and accurate: no necessary detail missing, nothing false, misleading or hallucinated; a task is completely done.',
    ],
  },
  {
    attribute: 'coherence',
    title: 'Coherence / Clarity',
    question: 'Is it self-consistent, clear and logically easy to follow, without contradiction or repetition?',
    levels: [
      'Completely incoherent and/or unclear: incomprehensible, no clear meaning can be discerned.',
      'Mostly incoherent and/or unclear: mostly hard to follow, with inconsistencies, contradictions, confusing logic or unclear language throughout, but some clear parts.',
      'A little unclear and/or incoherent: some inconsistencies or contradictions, run-on sentences, confusing statements or hard-to-follow sections.',
      'Mostly coherent and clear: one or two places where the wording is confusing or the flow is a little hard to follow.',
      'Perfectly coherent and clear: self-consistent throughout, no contradictions, the writing flows logically.',
    ],
  },
  {
    attribute: 'complexity',
    title: 'Simple / Complex Language',
    question: 'How sophisticated is the language: could a child understand it, or only an expert?',
    levels: [
      'Basic: very easy to understand language, clear and interpretable by children, adults and anyone with a functional command of the language.',
      'Simple: relatively straightforward language, but some schooling through elementary or middle school might be needed to understand it.',
      'Intermediate: people who completed high school will understand the vocabulary and sentence structure; children might struggle.',
      'Advanced: fairly sophisticated vocabulary and terminology; someone majoring in the subject at university could have written it, an average adult outside the field could not.',
      'Expert: specific, technically relevant vocabulary; an expert in the field could have written it (the professional language of a lawyer, scientist, engineer or doctor).',
    ],
  },
  {
    attribute: 'verbosity',
    title: 'Succinctness / Verbosity',
    question: 'How long and detailed is it, relative to what the prompt asks for?',
    levels: [
      'Succinct: short, to the point, as concise as it can be; nothing beyond what the prompt requests (even an incorrect answer can be succinct).',
      'Pretty short: on the shorter side, but words or details could still be removed before it is a bare minimum.',
      'Average length: neither especially long nor short for what the prompt asks; adequate for a full response.',
      'Moderately long: on the longer side, but more could be added before it is fully detailed or rambling.',
      'Verbose: particularly lengthy, wordy and/or extensive given what the prompt requested — whether from repetition or from rich detail.',
    ],
  },
];

// Keep the table in the data layer's attribute order: exports rely on it.
if (ATTRIBUTE_GUIDELINES.map((g) => g.attribute).join() !== HELPSTEER2_ATTRIBUTES.join()) throw new Error('ATTRIBUTE_GUIDELINES out of HelpSteer2 order');

/** Per-response safety (guideline axis 6: pass / fail). */
export const UNSAFE_GUIDELINE =
  'Fail (unsafe): harmful content (hate speech, bullying, harassment, sexually explicit content, violence), promotion of illegal activities or of harm to people’s mental, physical or emotional health, profanity, or bias and stereotyping of societal groups.';

/** Task flags of guideline G.2: a flagged task is not rated. */
export const TASK_FLAGS = [
  { id: 'pii', key: 'p', label: 'Contains PII', help: 'names, addresses, SSNs, emails, phone numbers (impersonating an imaginary or famous person is not PII)' },
  { id: 'non-english', key: 'e', label: 'Substantially non-English', help: 'fluency in another language is needed to do the task' },
  { id: 'coding', key: 'c', label: 'Requires coding abilities', help: 'writing or understanding non-trivial code' },
  { id: 'assistant-identity', key: 'a', label: 'About the Assistant’s identity, license, usage, characteristics', help: '“who made chatGPT” is fine; “what license applies to your outputs” is flagged' },
] as const;
export type TaskFlag = (typeof TASK_FLAGS)[number]['id'];

/** HelpSteer2-Preference's "neither response is valid" (and the value of a flagged task's preference). */
export const NEITHER_VALID = -100;

/** The preference options in keyboard order: keys 1–6, then n. */
export const PREFERENCE_OPTIONS: readonly { value: number; key: string; label: string }[] = [
  { value: -3, key: '1', label: 'Response 1 is much better than Response 2' },
  { value: -2, key: '2', label: 'Response 1 is better than Response 2' },
  { value: -1, key: '3', label: 'Response 1 is slightly better than Response 2' },
  { value: 1, key: '4', label: 'Response 2 is slightly better than Response 1' },
  { value: 2, key: '5', label: 'Response 2 is better than Response 1' },
  { value: 3, key: '6', label: 'Response 2 is much better than Response 1' },
  { value: NEITHER_VALID, key: 'n', label: 'Neither response is valid' },
];

/** Justification length in words (1–2 sentences, 10–50 English words). */
export const JUSTIFICATION_WORDS = { min: 10, max: 50 } as const;

/** Words as the guideline counts them: runs of non-space characters. */
export function countWords(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}
