// Schemas of the toy world's own files (the HelpSteer2-format files use ../schema.ts).
import { z } from 'zod';
import { TOY_TASK_KINDS } from './tasks.js';

export const groundTruthRowSchema = z.object({
  prompt: z.string({ error: 'a string' }),
  kind: z.enum(TOY_TASK_KINDS as [string, ...string[]], { error: `one of ${TOY_TASK_KINDS.join(', ')}` }).transform((k) => k as (typeof TOY_TASK_KINDS)[number]),
  word: z.string().regex(/^[a-z]+$/, { error: 'a lowercase word' }).optional(),
  letter: z.string().regex(/^[a-z]$/, { error: 'one lowercase letter' }).optional(),
  a: z.number().int().min(0).optional(),
  b: z.number().int().min(0).optional(),
  answer: z.string({ error: 'a string' }),
  probe: z.literal(true).optional(),
});
