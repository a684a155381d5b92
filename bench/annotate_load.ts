// Load test of the annotation studio: N simulated annotators (default 50) sign in and submit answers
// concurrently over loopback for a bounded time, against `steer annotate serve` running in its own
// process. Afterwards the database is checked: every acknowledged answer is there exactly once
// (0 lost, 0 duplicated), no task has more answers than it asked for, no annotator answered a task
// twice. Prints one summary line per figure: answers/s and save latency p50 / p99 / max.
//
//   node --import tsx bench/annotate_load.ts [--annotators 50] [--seconds 20] [--tasks 6000] [--synchronous full|normal]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AnnotationStore } from '../src/annotate/store.js';
import { answer } from '../test/annotate/helpers.js';
import { nextTaskId, signIn, submit } from '../test/annotate/client.js';

const { values } = parseArgs({ options: { annotators: { type: 'string', default: '50' }, seconds: { type: 'string', default: '20' }, tasks: { type: 'string', default: '6000' }, synchronous: { type: 'string', default: 'full' } } });
const annotators = Number(values.annotators);
const seconds = Number(values.seconds);
const nTasks = Number(values.tasks);
const root = fileURLToPath(new URL('..', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'steer-annotate-load-'));
const db = join(dir, 'studio.db');
const setup = new AnnotationStore(db);
setup.addTasks(Array.from({ length: nTasks }, (_, i) => ({ prompt: `Prompt ${i}: how many r in strawberry?`, response1: `There are ${i % 4} r.`, response2: `The word has ${(i + 1) % 4} r.`, source: `load:${i}` })));
const tokens = Array.from({ length: annotators }, (_, i) => setup.addAnnotator(`load${i}`).token);
setup.close();

const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/bin.ts'), 'annotate', 'serve', '--db', db, '--port', '0', '--quiet', '--synchronous', values.synchronous!], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /at (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});

try {
  const clients = await Promise.all(tokens.map((t) => signIn(url, t)));
  const latencies: number[] = [];
  const acked: string[] = [];
  let failures = 0;
  let exhausted = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      while (performance.now() < deadline) {
        const id = await nextTaskId(c);
        if (id === null) {
          exhausted++;
          return;
        }
        const start = performance.now();
        const r = await submit(c, id, answer(id % 5, (id * 7) % 5, id % 2 ? -2 : 1));
        latencies.push(performance.now() - start);
        if (r.status === 200) acked.push(`load${i}:${id}`);
        else failures++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));

  const store = new AnnotationStore(db);
  const rows = store.db.prepare('SELECT n.name, a.task_id FROM answers a JOIN annotators n ON n.id = a.annotator_id').all() as { name: string; task_id: number }[];
  const inDb = new Map<string, number>();
  for (const r of rows) inDb.set(`${r.name}:${r.task_id}`, (inDb.get(`${r.name}:${r.task_id}`) ?? 0) + 1);
  const lost = acked.filter((k) => !inDb.has(k)).length;
  const duplicated = [...inDb.values()].filter((n) => n > 1).length + (rows.length - new Set(acked).size > 0 ? rows.length - new Set(acked).size : 0);
  const overfull = store.db.prepare('SELECT COUNT(*) FROM tasks t WHERE (SELECT COUNT(*) FROM answers a WHERE a.task_id = t.id) > t.target').pluck().get() as number;
  store.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  console.log(`annotate load: ${annotators} annotators, synchronous=${values.synchronous}, ${elapsed.toFixed(1)} s over loopback, ${acked.length} answers saved (${(acked.length / elapsed).toFixed(0)} answers/s), ${failures} refused, ${exhausted} ran out of tasks`);
  console.log(`annotate load: save latency p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms (${latencies.length} saves)`);
  console.log(`annotate load: database holds ${rows.length} answers; lost ${lost}, duplicated ${duplicated}, tasks over their target ${overfull}`);
  if (lost !== 0 || duplicated !== 0 || overfull !== 0 || failures !== 0) process.exitCode = 1;
} finally {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
