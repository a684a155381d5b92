// `steer annotate import|tokens|serve|export`: the HelpSteer2-style annotation studio. A thin shell
// over src/annotate: each command validates its config and calls the library.
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { announce, resolveConfig } from './command.js';
import { AnnotationStore } from '../annotate/store.js';
import { importTasks } from '../annotate/import.js';
import { exportStudio, EXPORT_FILES } from '../annotate/export.js';
import { startStudio } from '../annotate/server.js';
import { DEFAULT_ASSIGNMENT } from '../annotate/assign.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const quiet = { quiet: z.boolean() };

const assignmentOptions = (cmd: Command) =>
  cmd
    .option('--annotators-per-task <n>', 'annotators each task goes to first (HelpSteer2: 3)', String(DEFAULT_ASSIGNMENT.annotatorsPerTask))
    .option('--extra-annotators <n>', 'annotators added when the first ones disagree (HelpSteer2: 2)', String(DEFAULT_ASSIGNMENT.extraAnnotators))
    .option('--extra-when-spread <n>', 'add them when the first annotators\' helpfulness spread (max - min) exceeds this (HelpSteer2: 2)', String(DEFAULT_ASSIGNMENT.extraWhenSpreadAbove));

const assignmentSchema = {
  annotatorsPerTask: z.coerce.number().int().min(1).max(20),
  extraAnnotators: z.coerce.number().int().min(0).max(20),
  extraWhenSpread: z.coerce.number().int().min(0).max(4),
};

export function registerAnnotate(program: Command): void {
  const annotate = program
    .command('annotate')
    .description('the annotation studio: collect HelpSteer2 ratings and HelpSteer2-Preference preferences from people, in the browser')
    .addHelpText(
      'after',
      '\nA whole round (commands that work as written):\n' +
        '  steer data toy --size 20 --out toy                       # or: steer generate ... --out gen.jsonl\n' +
        '  steer annotate import --db studio.db toy/helpsteer2/train.jsonl\n' +
        '  steer annotate tokens --db studio.db --add alice --add bob --add carol --admin boss\n' +
        '  steer annotate serve --db studio.db --port 8080            # annotators sign in at http://127.0.0.1:8080\n' +
        '  steer annotate export --db studio.db --out studio-export\n' +
        '  steer data prepare --preferences studio-export/helpsteer2/preference.jsonl --ratings studio-export/helpsteer2/disagreements.jsonl --out prepared\n' +
        '  steer rm train --loss scaled-bt --pairs prepared/pairs-train.jsonl --out rm/studio',
    );

  const imp = annotate
    .command('import')
    .description('add tasks (a prompt and two responses) to the studio; all rows are checked first: one bad row and nothing is imported')
    .argument('<files...>', 'JSONL files of {prompt, response_1, response_2} rows, or {prompt, response} / `steer generate --out` {prompt, completion} rows (a prompt\'s responses pair up in file order)')
    .requiredOption('--db <file>', 'the studio database (SQLite; created if missing)')
    .option('--annotators-per-task <n>', 'annotators each new task goes to first (HelpSteer2: 3)', String(DEFAULT_ASSIGNMENT.annotatorsPerTask))
    .option('--quiet', 'print only the result line', false);
  imp.action(async (files: string[]) => {
    const cfg = resolveConfig(imp, z.strictObject({ db: z.string().min(1), annotatorsPerTask: assignmentSchema.annotatorsPerTask, ...quiet }));
    announce('annotate import', { ...cfg, files }, cfg.quiet);
    const store = new AnnotationStore(cfg.db);
    try {
      const r = await importTasks(store, files, { annotatorsPerTask: cfg.annotatorsPerTask });
      process.stdout.write(r.imported > 0 ? `imported ${r.imported} tasks into ${cfg.db} (task ids ${r.taskIds[0]}–${r.taskIds[r.taskIds.length - 1]})\n` : `no task in ${files.join(', ')}\n`);
    } finally {
      store.close();
    }
  });

  const tokens = annotate
    .command('tokens')
    .description('create annotators and the admin, each with a sign-in token (shown once; only its hash is stored), rotate or revoke them; without options, list them')
    .requiredOption('--db <file>', 'the studio database')
    .option('--add <name>', 'a new annotator (repeatable)', collect, [])
    .option('--admin <name>', 'a new admin (sees progress and agreement, exports; does not annotate)', collect, [])
    .option('--rotate <name>', 'a new token for an existing annotator; the old one stops working (repeatable)', collect, [])
    .option('--revoke <name>', 'revoke an annotator\'s token (repeatable)', collect, []);
  tokens.action(() => {
    const cfg = resolveConfig(tokens, z.strictObject({ db: z.string().min(1), add: z.array(z.string()), admin: z.array(z.string()), rotate: z.array(z.string()), revoke: z.array(z.string()) }));
    const store = new AnnotationStore(cfg.db);
    try {
      const out: string[] = [];
      for (const name of cfg.add) out.push(`${name}\tannotator\t${store.addAnnotator(name, 'annotator').token}`);
      for (const name of cfg.admin) out.push(`${name}\tadmin\t${store.addAnnotator(name, 'admin').token}`);
      for (const name of cfg.rotate) out.push(`${name}\trotated\t${store.rotateToken(name)}`);
      for (const name of cfg.revoke) {
        store.revoke(name);
        out.push(`${name}\trevoked`);
      }
      if (out.length === 0) for (const a of store.annotators()) out.push(`${a.name}\t${a.role}${a.revoked ? '\trevoked' : ''}`);
      else out.unshift('# tokens are shown once: hand each to its owner (only a SHA-256 hash is stored)');
      process.stdout.write(out.join('\n') + '\n');
    } finally {
      store.close();
    }
  });

  const srv = annotate
    .command('serve')
    .description('serve the studio: annotators sign in with their token and rate, compare and justify; the admin page shows progress, agreement and exports')
    .requiredOption('--db <file>', 'the studio database (SQLite; created if missing)')
    .option('--tasks <file>', 'import this task file first (repeatable; its tasks already in the studio are left as they are)', collect, [])
    .option('--port <n>', 'TCP port (0 = any free port)', '8080')
    .option('--host <addr>', 'address to listen on (0.0.0.0 to let other machines in; put TLS in front then)', '127.0.0.1')
    .option('--lease-minutes <n>', 'a task handed out is held this long for its annotator, then offered to someone else', String(DEFAULT_ASSIGNMENT.leaseMs / 60_000))
    .option('--synchronous <mode>', 'full: every save is fsynced (survives a power cut); normal: survives a crash of the server, about twice as fast on slow disks', 'full')
    .option('--export-dir <dir>', 'where the admin page\'s export button writes (default: beside the database, <db>-export)')
    .option('--quiet', 'no start-up announcement', false);
  assignmentOptions(srv);
  srv.action(async () => {
    const cfg = resolveConfig(
      srv,
      z.strictObject({
        db: z.string().min(1),
        tasks: z.array(z.string()),
        port: z.coerce.number().int().min(0).max(65535),
        host: z.string().min(1),
        leaseMinutes: z.coerce.number().gt(0),
        exportDir: z.string().min(1).optional(),
        synchronous: z.enum(['full', 'normal']),
        ...assignmentSchema,
        ...quiet,
      }),
    );
    announce('annotate serve', cfg, cfg.quiet);
    const store = new AnnotationStore(cfg.db, { synchronous: cfg.synchronous });
    const assignment = { annotatorsPerTask: cfg.annotatorsPerTask, extraAnnotators: cfg.extraAnnotators, extraWhenSpreadAbove: cfg.extraWhenSpread, leaseMs: Math.round(cfg.leaseMinutes * 60_000) };
    if (cfg.tasks.length > 0) {
      const r = await importTasks(store, cfg.tasks, { annotatorsPerTask: assignment.annotatorsPerTask, skipExisting: true });
      process.stderr.write(`--tasks: imported ${r.imported} new tasks (${r.skipped} already in the studio) from ${cfg.tasks.join(', ')}\n`);
    }
    if (store.annotators().length === 0) process.stderr.write('no annotators yet: create them with `steer annotate tokens --db ' + cfg.db + ' --add NAME --admin NAME`\n');
    const exportDir = cfg.exportDir ?? join(dirname(resolve(cfg.db)), `${cfg.db.replace(/^.*\//, '').replace(/\.[^.]*$/, '')}-export`);
    const studio = await startStudio({ store, assignment, exportDir, port: cfg.port, host: cfg.host });
    process.stdout.write(`steer annotate: serving ${store.allTasks().length} tasks at ${studio.url} (Ctrl+C stops)\n`);
    const stop = () => {
      studio.server.closeAllConnections?.();
      void studio.close().then(() => {
        store.close();
        process.exit(0);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await new Promise(() => {});
  });

  const exp = annotate
    .command('export')
    .description('write the answers as HelpSteer2 (per-annotator and aggregated) and HelpSteer2-Preference files that `steer data prepare` reads')
    .requiredOption('--db <file>', 'the studio database')
    .requiredOption('--out <dir>', 'output directory')
    .option('--include-incomplete', 'also export tasks that have not reached their number of annotators', false)
    .option('--val-fraction <x>', 'share of prompts in the validation split (the same rule as steer data prepare)', '0.05')
    .option('--seed <n>', 'seed of the validation split', '0')
    .option('--quiet', 'print only the result', false);
  exp.action(() => {
    const cfg = resolveConfig(exp, z.strictObject({ db: z.string().min(1), out: z.string().min(1), includeIncomplete: z.boolean(), valFraction: z.coerce.number().min(0).max(0.99), seed: z.coerce.number().int().min(0), ...quiet }));
    announce('annotate export', cfg, cfg.quiet);
    const store = new AnnotationStore(cfg.db);
    try {
      const r = exportStudio(store, cfg);
      const lines = [
        `exported ${r.tasks} tasks (${r.answers} answers, ${r.flaggedAnswers} flagging the task invalid; ${r.tasksSkippedIncomplete} unfinished tasks left out) to ${cfg.out}:`,
        ...Object.entries(r.rows).map(([f, n]) => `  ${f.padEnd(34)} ${n} rows`),
        `next: steer data prepare --preferences ${join(cfg.out, EXPORT_FILES.preferences)} --ratings ${join(cfg.out, EXPORT_FILES.disagreements)} --out prepared`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    } finally {
      store.close();
    }
  });
}
