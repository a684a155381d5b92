// The run directory: lock (held by a live process, broken when its owner is dead), the one resume
// rule (paths normalised, a differing option named), failed runs leaving nothing behind, stale
// temporary files removed, and the checkpoint rules the finite-loss guard relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { acquireRunLock, openRun, resumeDifferences } from '../../src/train/run.js';
import { removeStaleTemps, tempFileOwner } from '../../src/io/output.js';
import { NonFiniteStateError, loadLatestTrainCheckpoint, saveTrainCheckpoint } from '../../src/train/checkpoint.js';
import { TrainState } from '../../src/train/optim.js';
import { isUserError } from '../../src/util/errors.js';

/** A pid that certainly belongs to no running process: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('the lock: a live owner refuses a second run, a dead owner\'s lock is broken, release frees it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-lock-'));
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    // a live process (the child) holds it
    writeFileSync(join(dir, '.steer.lock'), JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), startedAt: 'then' }));
    assert.throws(() => acquireRunLock(dir, 'sft'), (e) => isUserError(e) && e.message.includes(`pid ${child.pid}`) && e.message.includes(dir) && /fix: wait for it to finish/.test(e.message));
    // its owner is gone (kill -9): broken, and taken
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const release = acquireRunLock(dir, 'sft');
    assert.equal(JSON.parse(readFileSync(join(dir, '.steer.lock'), 'utf8')).pid, process.pid);
    // the same process may not open it twice either
    assert.throws(() => acquireRunLock(dir, 'sft'), (e) => isUserError(e) && /another training run in this process/.test(e.message));
    release();
    assert.equal(existsSync(join(dir, '.steer.lock')), false);
    // a torn lock file (killed during its write) counts as stale
    writeFileSync(join(dir, '.steer.lock'), '{"pid": 12');
    acquireRunLock(dir, 'sft')();
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the resume rule: the same options under another spelling of the paths resume; a changed option is named with the way out', () => {
  const root = mkdtempSync(join(tmpdir(), 'steer-resume-'));
  const cwd = process.cwd();
  try {
    process.chdir(root);
    mkdirSync('data');
    writeFileSync('data/train.jsonl', '{}\n');
    const config = (out: string, data: string, lr = 0.001) => ({ stage: 'sft', out, lr, steps: 10, data, threads: 2 });
    const open = (out: string, data: string, lr?: number, steps = 10) => openRun({ runDir: out, stage: 'sft', config: { ...config(out, data, lr), steps }, resume: true, pathKeys: ['data'] });
    const a = open('runs/x/', 'data/train.jsonl');
    mkdirSync('runs/x/checkpoints', { recursive: true });
    writeFileSync('runs/x/checkpoints/latest.json', '{"step": 1, "dir": "step-000001"}');
    a.release(true);
    // ./runs/x, an absolute path, ./data/… : the same run; more steps and threads may change
    for (const [out, data] of [['./runs/x', './data/train.jsonl'], [join(root, 'runs/x'), join(root, 'data/train.jsonl')], ['runs/x', relative(root, join(root, 'data', '..', 'data', 'train.jsonl'))]]) {
      const r = open(out, data, undefined, 20);
      assert.equal(r.resuming, true, `${out} + ${data} resumes`);
      r.release(true);
    }
    assert.throws(
      () => open('runs/x', 'data/train.jsonl', 0.01),
      (e) => isUserError(e) && /runs\/x: the run directory holds a checkpoint of a sft run with other options: --lr\n  expected: --lr 0\.001\n  received: --lr 0\.01\n  fix: rerun with the original options to resume; or start over with --no-resume/.test(e.message),
    );
    assert.deepEqual(resumeDifferences({ lr: 1, steps: 5, quiet: false, beta: 0.1 }, { lr: 1, steps: 9, quiet: true }), ['beta']);
    // --no-resume: the old checkpoints move aside, the run starts over
    const fresh = openRun({ runDir: 'runs/x', stage: 'sft', config: config('runs/x', 'data/train.jsonl', 0.5), resume: false });
    assert.equal(fresh.resuming, false);
    assert.ok(readdirSync('runs/x').some((n) => n.startsWith('checkpoints.old-')));
    fresh.release(true);
  } finally {
    process.chdir(cwd);
    rmSync(root, { recursive: true, force: true });
  }
});

test('a failed run that saved no checkpoint leaves nothing behind; one with a checkpoint keeps it', () => {
  const root = mkdtempSync(join(tmpdir(), 'steer-fail-'));
  try {
    const out = join(root, 'new');
    openRun({ runDir: out, stage: 'sft', config: { lr: 1 }, resume: true }).release(false);
    assert.equal(existsSync(out), false, 'the directory it created is gone');
    mkdirSync(join(root, 'old'));
    writeFileSync(join(root, 'old', 'notes.txt'), 'mine');
    openRun({ runDir: join(root, 'old'), stage: 'sft', config: { lr: 1 }, resume: true }).release(false);
    assert.deepEqual(readdirSync(join(root, 'old')), ['notes.txt'], 'an existing directory keeps what was there, loses the config it got');
    const kept = openRun({ runDir: join(root, 'ck'), stage: 'sft', config: { lr: 1 }, resume: true });
    saveTrainCheckpoint(join(root, 'ck'), { step: 1, state: TrainState.init({ w: new Float32Array([1, 2]) }), cursor: 0 });
    kept.release(false);
    assert.equal(loadLatestTrainCheckpoint(join(root, 'ck'))?.step, 1);
    // --out that is a file
    writeFileSync(join(root, 'file'), 'x');
    assert.throws(() => openRun({ runDir: join(root, 'file'), stage: 'sft', config: {}, resume: true }), (e) => isUserError(e) && /--out is a file; a directory is expected here/.test(e.message));
    assert.equal(readFileSync(join(root, 'file'), 'utf8'), 'x');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('stale temporary files of dead writers are removed; a live writer\'s are kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-tmp-'));
  try {
    const dead = deadPid();
    assert.equal(tempFileOwner(`.state.safetensors.${dead}.1733000000000.tmp`), dead);
    assert.equal(tempFileOwner('.step-000012.4242.tmp'), 4242);
    assert.equal(tempFileOwner('.a.5.json.77.1.tmp'), 77);
    assert.equal(tempFileOwner('state.safetensors'), null);
    writeFileSync(join(dir, `.state.safetensors.${dead}.1733000000000.tmp`), 'partial');
    mkdirSync(join(dir, `.step-000012.${dead}.tmp`));
    writeFileSync(join(dir, `.metrics.json.${process.ppid}.1.tmp`), 'live writer');
    assert.equal(removeStaleTemps(dir), 2);
    assert.deepEqual(readdirSync(dir), [`.metrics.json.${process.ppid}.1.tmp`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoints: a non-finite state is never saved, and rotation never removes the newest checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'steer-ck-'));
  try {
    const state = (x: number) => TrainState.init({ w: new Float32Array([x, 1]) });
    for (const s of [1, 2, 3]) saveTrainCheckpoint(dir, { step: s, state: state(s), cursor: s }, 2);
    assert.deepEqual(readdirSync(join(dir, 'checkpoints')).filter((n) => n.startsWith('step-')).sort(), ['step-000002', 'step-000003']);
    assert.throws(() => saveTrainCheckpoint(dir, { step: 4, state: state(NaN), cursor: 4 }, 1), (e) => e instanceof NonFiniteStateError && e.tensor === 'param/w');
    assert.equal(loadLatestTrainCheckpoint(dir)?.step, 3, 'the last good checkpoint is still the latest');
    // keep = 1 after a restart that saves an earlier step: the new one survives, later leftovers go
    saveTrainCheckpoint(dir, { step: 1, state: state(9), cursor: 1 }, 1);
    assert.deepEqual(readdirSync(join(dir, 'checkpoints')).filter((n) => n.startsWith('step-')), ['step-000001']);
    assert.equal(loadLatestTrainCheckpoint(dir)?.step, 1);
    // a torn trainer.json is a clear error, not a JSON stack trace
    writeFileSync(join(dir, 'checkpoints', 'step-000001', 'trainer.json'), '{"step": 1, "optimi');
    assert.throws(() => loadLatestTrainCheckpoint(dir), (e) => isUserError(e) && /trainer\.json: cannot read the checkpoint's trainer state[\s\S]*fix: start over with --no-resume/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
