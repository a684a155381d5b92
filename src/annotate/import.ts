// Tasks into the studio: a task is a prompt and two responses. Files are JSONL (or anything the
// data layer's readRecords reads) with one of
//   {prompt, response_1, response_2}                  one task per row
//   {prompt, response} | {prompt, completion}          `steer generate --out` rows and any
//                                                       prompt/response file: a prompt's
//                                                       responses pair up in file order (1st+2nd, 3rd+4th, …)
// where prompt is a string (HelpSteer2's multi-turn convention allowed) or [{role, content}] turns.
// Every file is read and checked before anything is written: a bad row (its file:line and field
// named), an unpaired response, two identical responses or a duplicate task (here or already in
// the studio) and nothing is imported.
import { z } from 'zod';
import { UserError, describeValue } from '../util/errors.js';
import { readRecords } from '../data/read.js';
import { parseRecord, promptSchema } from '../data/schema.js';
import { joinHelpSteer2Prompt, type Turn } from '../data/helpsteer2.js';
import { taskKey, type AnnotationStore, type NewTask } from './store.js';
import { DEFAULT_ASSIGNMENT, type AssignmentOptions } from './assign.js';

const LIMITS = { promptChars: 200_000, responseChars: 200_000 } as const;
const text = (max: number) => z.string({ error: 'a string' }).max(max, { error: `at most ${max} characters` });

const pairRowSchema = z.object({ prompt: promptSchema, response_1: text(LIMITS.responseChars), response_2: text(LIMITS.responseChars) });
const singleRowSchema = z.object({ prompt: promptSchema, response: text(LIMITS.responseChars) });
const completionRowSchema = z.object({ prompt: promptSchema, completion: text(LIMITS.responseChars) });

function promptText(p: string | Turn[], where: string): string {
  if (typeof p === 'string') return p;
  const turns = p[p.length - 1]?.role === 'user' ? p : null;
  if (!turns) throw new UserError({ what: 'a conversation prompt must end with a user turn', where: `${where} field prompt`, received: describeValue(p), fix: 'drop the trailing assistant turn: the responses are the assistant turn' });
  try {
    return joinHelpSteer2Prompt(turns);
  } catch (e) {
    if (e instanceof UserError) throw new UserError({ ...e.detail, where: `${where} field prompt` });
    throw e;
  }
}

interface Pending {
  prompt: string;
  response: string;
  where: string;
}

/** Read task files into tasks, validating everything; throws a UserError at the first problem. */
export async function readTaskFiles(files: readonly string[]): Promise<NewTask[]> {
  if (files.length === 0) throw new UserError({ what: 'no task files given', fix: 'pass one or more JSONL files of {prompt, response_1, response_2} or {prompt, response} rows' });
  const tasks: NewTask[] = [];
  for (const file of files) {
    // Single responses wait for their partner, grouped by prompt, in file order.
    const waiting = new Map<string, Pending>();
    const order: string[] = [];
    for await (const rec of readRecords(file)) {
      const v = rec.value;
      if ('response_1' in v || 'response_2' in v) {
        const row = parseRecord(pairRowSchema, rec, 'task row');
        tasks.push(checkedTask(promptText(row.prompt, rec.where), row.response_1, row.response_2, rec.where, rec.where));
        continue;
      }
      const single = 'completion' in v && !('response' in v) ? parseRecord(completionRowSchema, rec, 'generation row') : parseRecord(singleRowSchema, rec, 'prompt/response row');
      const response = 'completion' in single ? single.completion : single.response;
      const prompt = promptText(single.prompt, rec.where);
      if (prompt.length > LIMITS.promptChars) throw new UserError({ what: `the prompt is longer than ${LIMITS.promptChars} characters`, where: `${rec.where} field prompt`, fix: 'shorten it' });
      const first = waiting.get(prompt);
      if (first) {
        waiting.delete(prompt);
        tasks.push(checkedTask(prompt, first.response, response, first.where, rec.where));
      } else {
        waiting.set(prompt, { prompt, response, where: rec.where });
        order.push(prompt);
      }
    }
    const unpaired = order.map((p) => waiting.get(p)).find((p) => p !== undefined);
    if (unpaired) {
      throw new UserError({
        what: 'this response has no partner: a task is a prompt with two responses',
        where: unpaired.where,
        expected: 'an even number of responses per prompt (they pair up in file order)',
        received: `prompt ${describeValue(unpaired.prompt, 60)} with an odd number of responses`,
        fix: 'add a second response for this prompt or remove the row (no task was imported)',
      });
    }
  }
  const seen = new Map<string, string>();
  for (const t of tasks) {
    const key = taskKey(t.prompt, t.response1, t.response2);
    const before = seen.get(key);
    if (before) throw new UserError({ what: `duplicate task: the same prompt and responses as ${before}`, where: t.source, fix: 'remove one of the two rows (no task was imported)' });
    seen.set(key, t.source);
  }
  return tasks;
}

function checkedTask(prompt: string, response1: string, response2: string, where1: string, where2: string): NewTask {
  const source = where1 === where2 ? where1 : `${where1} + ${where2}`;
  if (response1 === response2) {
    throw new UserError({ what: 'the two responses of this task are the same text: there is nothing to compare', where: where2, fix: 'remove the duplicate response (no task was imported)' });
  }
  if (response1.trim() === '' || response2.trim() === '') throw new UserError({ what: 'a response is empty', where: where2, fix: 'remove the row or give it a response (no task was imported)' });
  return { prompt, response1, response2, source };
}

export interface ImportReport {
  files: string[];
  imported: number;
  /** Tasks already in the studio, left as they are (only with skipExisting). */
  skipped: number;
  taskIds: number[];
}

export interface ImportOptions extends Partial<Pick<AssignmentOptions, 'annotatorsPerTask'>> {
  /** Leave tasks already in the studio alone instead of refusing them (`serve --tasks` on restart). */
  skipExisting?: boolean;
}

/** Import task files into the store, all or nothing; a task already in the studio is a duplicate. */
export async function importTasks(store: AnnotationStore, files: readonly string[], opts: ImportOptions = {}): Promise<ImportReport> {
  const tasks = await readTaskFiles(files);
  const keys = tasks.map((t) => taskKey(t.prompt, t.response1, t.response2));
  const existing = store.existingTaskKeys(keys);
  const dup = tasks.findIndex((_, i) => existing.has(keys[i]));
  if (dup >= 0 && !opts.skipExisting) {
    throw new UserError({ what: 'duplicate task: this prompt and these two responses are already in the studio', where: tasks[dup].source, fix: `remove the row, or import into another --db (no task was imported); the studio is ${store.path}` });
  }
  const fresh = tasks.filter((_, i) => !existing.has(keys[i]));
  const taskIds = store.addTasks(fresh, { annotatorsPerTask: opts.annotatorsPerTask ?? DEFAULT_ASSIGNMENT.annotatorsPerTask });
  return { files: [...files], imported: taskIds.length, skipped: tasks.length - fresh.length, taskIds };
}
