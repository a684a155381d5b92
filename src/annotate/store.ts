// The studio's store: one SQLite file (better-sqlite3, WAL journal, synchronous=FULL) holding
// tasks, annotators (tokens hashed), sessions, leases, drafts and answers. Every answer is written
// in one transaction — the answer row, its lease released, its draft dropped, the task's target
// raised when the first three disagree — so a crash leaves either all of it or none of it, and
// the server says "saved" only after the commit returns. (task, annotator) is the answers' primary
// key: a repeated submission updates the one row (revision + 1), it never adds a second.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { HELPSTEER2_ATTRIBUTES, type HelpSteer2Attribute } from '../data/helpsteer2.js';
import { intIn } from '../data/schema.js';
import { annotationTarget, type AssignmentOptions, DEFAULT_ASSIGNMENT } from './assign.js';
import { JUSTIFICATION_WORDS, NEITHER_VALID, PREFERENCE_OPTIONS, TASK_FLAGS, countWords, type TaskFlag } from './guidelines.js';

export type Ratings = Record<HelpSteer2Attribute, number>;

/** One annotator's answer to a task. */
export interface Answer {
  /** Task flags (guideline G.2); any flag marks the task invalid: no ratings, preference −100. */
  flags: TaskFlag[];
  /** Ratings of response 1 and response 2; null when the task is flagged. */
  ratings: [Ratings, Ratings] | null;
  /** Per response: fails the guideline's safety check. */
  unsafe: [boolean, boolean];
  /** −3 … 3 without 0 (negative = response 1 better), or −100 = neither response is valid. */
  preference: number;
  justification: string;
}

const LIMITS = { justificationChars: 2000 } as const;

const ratingsSchema = z.strictObject(Object.fromEntries(HELPSTEER2_ATTRIBUTES.map((a) => [a, intIn(0, 4)])) as Record<HelpSteer2Attribute, ReturnType<typeof intIn>>);
const preferenceValues = PREFERENCE_OPTIONS.map((o) => o.value);

/** What a submitted answer must look like; cross-field rules follow the guidelines. */
export const answerSchema = z
  .strictObject({
    flags: z.array(z.enum(TASK_FLAGS.map((f) => f.id) as [TaskFlag, ...TaskFlag[]])).max(TASK_FLAGS.length),
    ratings: z.tuple([ratingsSchema, ratingsSchema]).nullable(),
    unsafe: z.tuple([z.boolean(), z.boolean()]),
    preference: z.number().int().refine((v) => preferenceValues.includes(v), { error: `one of ${preferenceValues.join(', ')}` }),
    justification: z.string().max(LIMITS.justificationChars),
  })
  .superRefine((a, ctx) => {
    const flagged = a.flags.length > 0;
    if (flagged && a.ratings !== null) ctx.addIssue({ code: 'custom', path: ['ratings'], message: 'a flagged (invalid) task is not rated: ratings must be null' });
    if (!flagged && a.ratings === null) ctx.addIssue({ code: 'custom', path: ['ratings'], message: 'rate all five attributes of both responses (or flag the task as invalid)' });
    if (flagged && a.preference !== NEITHER_VALID) ctx.addIssue({ code: 'custom', path: ['preference'], message: `a flagged task's preference is ${NEITHER_VALID} (neither response is valid)` });
    const words = countWords(a.justification);
    if (!flagged && (words < JUSTIFICATION_WORDS.min || words > JUSTIFICATION_WORDS.max)) {
      ctx.addIssue({ code: 'custom', path: ['justification'], message: `the justification has ${words} words; the guidelines ask for ${JUSTIFICATION_WORDS.min}–${JUSTIFICATION_WORDS.max} (one or two sentences)` });
    }
    if (flagged && words > JUSTIFICATION_WORDS.max) ctx.addIssue({ code: 'custom', path: ['justification'], message: `at most ${JUSTIFICATION_WORDS.max} words` });
  });

/** Validate an answer; throws a UserError naming the field. */
export function parseAnswer(value: unknown): Answer {
  const r = answerSchema.safeParse(value);
  if (r.success) return r.data as Answer;
  const issue = r.error.issues[0];
  const field = issue.path.map(String).join('.') || '(answer)';
  throw new UserError({ what: `the answer's ${field} is invalid: ${issue.message}`, where: `field ${field}`, fix: 'correct the field and save again' });
}

export interface Task {
  id: number;
  /** HelpSteer2 convention: multi-turn prompts joined with \n<extra_id_1>User|Assistant\n. */
  prompt: string;
  response1: string;
  response2: string;
  source: string;
  target: number;
}

export interface NewTask {
  prompt: string;
  response1: string;
  response2: string;
  source: string;
}

export interface Annotator {
  id: number;
  name: string;
  role: 'annotator' | 'admin';
}

export interface StoredAnswer extends Answer {
  taskId: number;
  annotatorId: number;
  annotator: string;
  /** 1 for the task's first answer, 2 for the second, … (fixed at first submission). */
  seq: number;
  revision: number;
  leasedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface SessionInfo {
  annotator: Annotator;
  csrf: string;
}

export interface SaveResult {
  revision: number;
  seq: number;
  target: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

/** The duplicate key of a task: its prompt and its two responses in either order. */
export function taskKey(prompt: string, a: string, b: string): string {
  const [x, y] = a <= b ? [a, b] : [b, a];
  return sha256(JSON.stringify([prompt, x, y]));
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  id INTEGER PRIMARY KEY,
  prompt TEXT NOT NULL,
  response_1 TEXT NOT NULL,
  response_2 TEXT NOT NULL,
  task_key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  target INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS annotators (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('annotator', 'admin')),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  annotator_id INTEGER NOT NULL REFERENCES annotators(id),
  csrf TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  annotator_id INTEGER NOT NULL REFERENCES annotators(id),
  leased_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (task_id, annotator_id)
);
CREATE TABLE IF NOT EXISTS drafts (
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  annotator_id INTEGER NOT NULL REFERENCES annotators(id),
  body TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (task_id, annotator_id)
);
CREATE TABLE IF NOT EXISTS answers (
  task_id INTEGER NOT NULL REFERENCES tasks(id),
  annotator_id INTEGER NOT NULL REFERENCES annotators(id),
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  helpfulness_1 INTEGER,
  helpfulness_2 INTEGER,
  preference INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  leased_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (task_id, annotator_id),
  UNIQUE (task_id, seq)
);
CREATE INDEX IF NOT EXISTS answers_by_annotator ON answers (annotator_id, updated_at);
`;

export class AnnotationStore {
  readonly db: Database.Database;
  readonly path: string;
  private readonly fullSync: boolean;

  /**
   * `synchronous`: 'full' (default) fsyncs every commit, so a saved answer survives a power cut as
   * well as a crash of the server; 'normal' (WAL) survives a crash of the server process but may
   * lose the last commits to a power cut, for about half the time per save.
   */
  constructor(path: string, opts: { synchronous?: 'full' | 'normal' } = {}) {
    this.path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new UserError({ what: `cannot open the studio database: ${(e as Error).message}`, where: path, fix: 'check the path and its permissions' });
    }
    this.db.pragma('journal_mode = WAL');
    this.fullSync = opts.synchronous !== 'normal';
    this.db.pragma(`synchronous = ${this.fullSync ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Run `fn` without an fsync at its commit: for leases, drafts and sessions, whose loss to a power
   * cut costs nothing (a lease is handed out again, a draft is autosaved again). In WAL mode the
   * next fully synced commit (an answer) makes them durable too.
   */
  private relaxed<T>(fn: () => T): T {
    if (!this.fullSync) return fn();
    this.db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Tasks

  /** Keys already present, among `keys`. */
  existingTaskKeys(keys: readonly string[]): Set<string> {
    const stmt = this.db.prepare('SELECT 1 FROM tasks WHERE task_key = ?').pluck();
    return new Set(keys.filter((k) => stmt.get(k) !== undefined));
  }

  /** Insert tasks in one transaction (all or none); returns their ids. */
  addTasks(tasks: readonly NewTask[], opts: Pick<AssignmentOptions, 'annotatorsPerTask'> = DEFAULT_ASSIGNMENT, now = Date.now()): number[] {
    const insert = this.db.prepare('INSERT INTO tasks (prompt, response_1, response_2, task_key, source, target, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    return this.db.transaction(() => tasks.map((t) => Number(insert.run(t.prompt, t.response1, t.response2, taskKey(t.prompt, t.response1, t.response2), t.source, opts.annotatorsPerTask, now).lastInsertRowid)))();
  }

  getTask(id: number): Task | undefined {
    const r = this.db.prepare('SELECT id, prompt, response_1, response_2, source, target FROM tasks WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r && rowToTask(r);
  }

  allTasks(): Task[] {
    return (this.db.prepare('SELECT id, prompt, response_1, response_2, source, target FROM tasks ORDER BY id').all() as Record<string, unknown>[]).map(rowToTask);
  }

  // ------------------------------------------------------------------------------------------
  // Annotators, tokens, sessions

  /** A new annotator (or admin) and their token, which is shown once: only its SHA-256 is stored. */
  addAnnotator(name: string, role: Annotator['role'] = 'annotator', now = Date.now()): { annotator: Annotator; token: string } {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
      throw new UserError({ what: 'an annotator name must be 1–64 letters, digits, dots, dashes or underscores', received: JSON.stringify(name), fix: 'e.g. --add alice' });
    }
    if (this.db.prepare('SELECT 1 FROM annotators WHERE name = ?').get(name)) {
      throw new UserError({ what: `annotator "${name}" already exists`, fix: `pick another name, or --rotate ${name} for a new token` });
    }
    const token = newToken();
    const id = Number(this.db.prepare('INSERT INTO annotators (name, token_hash, role, created_at) VALUES (?, ?, ?, ?)').run(name, sha256(token), role, now).lastInsertRowid);
    return { annotator: { id, name, role }, token };
  }

  /** A fresh token for an existing annotator (the old one stops working, its sessions end). */
  rotateToken(name: string): string {
    const token = newToken();
    const tx = this.db.transaction(() => {
      const r = this.db.prepare('UPDATE annotators SET token_hash = ?, revoked_at = NULL WHERE name = ?').run(sha256(token), name);
      if (r.changes === 0) throw new UserError({ what: `no annotator named "${name}"`, fix: 'list them with `steer annotate tokens --db FILE`' });
      this.db.prepare('DELETE FROM sessions WHERE annotator_id = (SELECT id FROM annotators WHERE name = ?)').run(name);
    });
    tx();
    return token;
  }

  revoke(name: string, now = Date.now()): void {
    const tx = this.db.transaction(() => {
      const r = this.db.prepare('UPDATE annotators SET revoked_at = ? WHERE name = ?').run(now, name);
      if (r.changes === 0) throw new UserError({ what: `no annotator named "${name}"`, fix: 'list them with `steer annotate tokens --db FILE`' });
      this.db.prepare('DELETE FROM sessions WHERE annotator_id = (SELECT id FROM annotators WHERE name = ?)').run(name);
    });
    tx();
  }

  annotators(): (Annotator & { revoked: boolean })[] {
    return (this.db.prepare('SELECT id, name, role, revoked_at FROM annotators ORDER BY id').all() as { id: number; name: string; role: Annotator['role']; revoked_at: number | null }[]).map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      revoked: r.revoked_at !== null,
    }));
  }

  /** The annotator a token belongs to, or null (unknown or revoked). */
  authenticate(token: string): Annotator | null {
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) return null;
    const r = this.db.prepare('SELECT id, name, role, token_hash FROM annotators WHERE token_hash = ? AND revoked_at IS NULL').get(sha256(token)) as (Annotator & { token_hash: string }) | undefined;
    if (!r) return null;
    // The lookup is by hash; compare again in constant time so timing says nothing about near misses.
    if (!timingSafeEqual(Buffer.from(r.token_hash, 'hex'), Buffer.from(sha256(token), 'hex'))) return null;
    return { id: r.id, name: r.name, role: r.role };
  }

  /** A session for a signed-in annotator: the cookie value and the CSRF token its forms carry. */
  createSession(annotatorId: number, ttlMs = 12 * 3600_000, now = Date.now()): { session: string; csrf: string } {
    const session = newToken();
    const csrf = newToken();
    this.relaxed(() => this.db.prepare('INSERT INTO sessions (id_hash, annotator_id, csrf, expires_at) VALUES (?, ?, ?, ?)').run(sha256(session), annotatorId, csrf, now + ttlMs));
    return { session, csrf };
  }

  session(session: string | undefined, now = Date.now()): SessionInfo | null {
    if (!session || session.length > 200) return null;
    const r = this.db
      .prepare('SELECT a.id, a.name, a.role, s.csrf FROM sessions s JOIN annotators a ON a.id = s.annotator_id WHERE s.id_hash = ? AND s.expires_at > ? AND a.revoked_at IS NULL')
      .get(sha256(session), now) as (Annotator & { csrf: string }) | undefined;
    return r ? { annotator: { id: r.id, name: r.name, role: r.role }, csrf: r.csrf } : null;
  }

  endSession(session: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(sha256(session));
  }

  // ------------------------------------------------------------------------------------------
  // Assignment

  /**
   * The task an annotator should work on now: the one they hold an unexpired lease on (resume),
   * else the first task they have not answered whose answers plus others' live leases are below
   * its target — leased to them. Null when nothing is left for them.
   */
  nextTask(annotatorId: number, opts: AssignmentOptions = DEFAULT_ASSIGNMENT, now = Date.now()): Task | null {
    const held = this.db.prepare(
      `SELECT t.id FROM leases l JOIN tasks t ON t.id = l.task_id
       WHERE l.annotator_id = ? AND l.expires_at > ? AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator_id = l.annotator_id)
       ORDER BY l.leased_at, t.id LIMIT 1`,
    );
    const free = this.db.prepare(
      `SELECT t.id FROM tasks t
       WHERE NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator_id = ?)
         AND (SELECT COUNT(*) FROM answers a WHERE a.task_id = t.id)
           + (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.expires_at > ? AND l.annotator_id != ?) < t.target
       ORDER BY t.id LIMIT 1`,
    );
    const lease = this.db.prepare('INSERT INTO leases (task_id, annotator_id, leased_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, annotator_id) DO UPDATE SET leased_at = excluded.leased_at, expires_at = excluded.expires_at');
    const pick = this.db.transaction((): number | null => {
      const h = held.get(annotatorId, now) as { id: number } | undefined;
      if (h) return h.id;
      const f = free.get(annotatorId, now, annotatorId) as { id: number } | undefined;
      if (!f) return null;
      lease.run(f.id, annotatorId, now, now + opts.leaseMs);
      return f.id;
    });
    const id = this.relaxed(() => pick.immediate());
    return id === null ? null : this.getTask(id)!;
  }

  /** May this annotator open and answer this task? (They hold or held its lease, or answered it.) */
  isAssigned(taskId: number, annotatorId: number): boolean {
    return this.db.prepare('SELECT 1 FROM leases WHERE task_id = ? AND annotator_id = ? UNION ALL SELECT 1 FROM answers WHERE task_id = ? AND annotator_id = ?').get(taskId, annotatorId, taskId, annotatorId) !== undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Drafts and answers

  saveDraft(taskId: number, annotatorId: number, body: unknown, now = Date.now()): void {
    const json = JSON.stringify(body);
    this.relaxed(() => this.db.prepare('INSERT INTO drafts (task_id, annotator_id, body, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, annotator_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at').run(taskId, annotatorId, json, now));
  }

  draft(taskId: number, annotatorId: number): unknown {
    const r = this.db.prepare('SELECT body FROM drafts WHERE task_id = ? AND annotator_id = ?').pluck().get(taskId, annotatorId) as string | undefined;
    return r === undefined ? undefined : JSON.parse(r);
  }

  /**
   * Save an answer: insert (the next seq of the task) or update (revision + 1) the one row of
   * (task, annotator), release the lease, drop the draft, and raise the task's target when its
   * first answers disagree (assign.ts) — all in one transaction.
   */
  submitAnswer(taskId: number, annotatorId: number, answer: Answer, opts: AssignmentOptions = DEFAULT_ASSIGNMENT, now = Date.now()): SaveResult {
    const a = parseAnswer(answer);
    const body = JSON.stringify(a);
    const h = a.ratings ? [a.ratings[0].helpfulness, a.ratings[1].helpfulness] : [null, null];
    const tx = this.db.transaction((): SaveResult => {
      const task = this.db.prepare('SELECT target FROM tasks WHERE id = ?').get(taskId) as { target: number } | undefined;
      if (!task) throw new UserError({ what: `no task ${taskId}`, fix: 'open the next task from the start page' });
      const existing = this.db.prepare('SELECT seq, revision FROM answers WHERE task_id = ? AND annotator_id = ?').get(taskId, annotatorId) as { seq: number; revision: number } | undefined;
      let seq: number;
      let revision: number;
      if (existing) {
        seq = existing.seq;
        revision = existing.revision + 1;
        this.db.prepare('UPDATE answers SET body = ?, helpfulness_1 = ?, helpfulness_2 = ?, preference = ?, revision = ?, updated_at = ? WHERE task_id = ? AND annotator_id = ?').run(body, h[0], h[1], a.preference, revision, now, taskId, annotatorId);
      } else {
        const lease = this.db.prepare('SELECT leased_at FROM leases WHERE task_id = ? AND annotator_id = ?').get(taskId, annotatorId) as { leased_at: number } | undefined;
        if (!lease) throw new UserError({ what: `task ${taskId} is not assigned to you`, fix: 'open the next task from the start page' });
        seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 FROM answers WHERE task_id = ?').pluck().get(taskId) as number) ?? 1;
        revision = 1;
        this.db
          .prepare('INSERT INTO answers (task_id, annotator_id, seq, body, helpfulness_1, helpfulness_2, preference, revision, leased_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(taskId, annotatorId, seq, body, h[0], h[1], a.preference, revision, lease.leased_at, now, now);
        this.db.prepare('DELETE FROM leases WHERE task_id = ? AND annotator_id = ?').run(taskId, annotatorId);
      }
      this.db.prepare('DELETE FROM drafts WHERE task_id = ? AND annotator_id = ?').run(taskId, annotatorId);
      const first = this.db.prepare('SELECT helpfulness_1 AS h1, helpfulness_2 AS h2 FROM answers WHERE task_id = ? ORDER BY seq LIMIT ?').all(taskId, opts.annotatorsPerTask) as { h1: number | null; h2: number | null }[];
      const target = annotationTarget(first.map((r) => (r.h1 === null || r.h2 === null ? null : [r.h1, r.h2])), task.target, opts);
      if (target !== task.target) this.db.prepare('UPDATE tasks SET target = ? WHERE id = ?').run(target, taskId);
      return { revision, seq, target };
    });
    return tx.immediate();
  }

  answer(taskId: number, annotatorId: number): StoredAnswer | undefined {
    const r = this.db.prepare(`${ANSWER_SELECT} WHERE a.task_id = ? AND a.annotator_id = ?`).get(taskId, annotatorId) as AnswerRow | undefined;
    return r && rowToAnswer(r);
  }

  /** An annotator's own answers, newest first. */
  answersBy(annotatorId: number, limit = 20): StoredAnswer[] {
    return (this.db.prepare(`${ANSWER_SELECT} WHERE a.annotator_id = ? ORDER BY a.updated_at DESC, a.task_id DESC LIMIT ?`).all(annotatorId, limit) as AnswerRow[]).map(rowToAnswer);
  }

  /** Every answer, by task then seq. */
  allAnswers(): StoredAnswer[] {
    return (this.db.prepare(`${ANSWER_SELECT} ORDER BY a.task_id, a.seq`).all() as AnswerRow[]).map(rowToAnswer);
  }

  /** How many answers an annotator has given and how many tasks are still open to them. */
  progressOf(annotatorId: number, now = Date.now()): { answered: number; available: number } {
    const answered = this.db.prepare('SELECT COUNT(*) FROM answers WHERE annotator_id = ?').pluck().get(annotatorId) as number;
    const available = this.db
      .prepare(
        `SELECT COUNT(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.annotator_id = ?)
         AND (SELECT COUNT(*) FROM answers a WHERE a.task_id = t.id) + (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.expires_at > ? AND l.annotator_id != ?) < t.target`,
      )
      .pluck()
      .get(annotatorId, now, annotatorId) as number;
    return { answered, available };
  }
}

const ANSWER_SELECT = 'SELECT a.task_id, a.annotator_id, n.name, a.seq, a.body, a.revision, a.leased_at, a.created_at, a.updated_at FROM answers a JOIN annotators n ON n.id = a.annotator_id';

interface AnswerRow {
  task_id: number;
  annotator_id: number;
  name: string;
  seq: number;
  body: string;
  revision: number;
  leased_at: number | null;
  created_at: number;
  updated_at: number;
}

function rowToAnswer(r: AnswerRow): StoredAnswer {
  const body = JSON.parse(r.body) as Answer;
  return { ...body, taskId: r.task_id, annotatorId: r.annotator_id, annotator: r.name, seq: r.seq, revision: r.revision, leasedAt: r.leased_at, createdAt: r.created_at, updatedAt: r.updated_at };
}

function rowToTask(r: Record<string, unknown>): Task {
  return { id: r.id as number, prompt: r.prompt as string, response1: r.response_1 as string, response2: r.response_2 as string, source: r.source as string, target: r.target as number };
}
