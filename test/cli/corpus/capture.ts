// Run the steer CLI in-process (main(argv)) with process.stdout / stderr writes captured: the
// corpus and the fault tests run hundreds of commands without a process start each.
import { main } from '../../../src/cli/main.js';

export async function runCaptured(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  // steer writes strings; the test runner's own events (binary frames on stdout) pass through
  const capture = (sink: string[], stream: NodeJS.WriteStream, orig: typeof process.stdout.write) =>
    ((s: string | Uint8Array, ...rest: unknown[]) => (typeof s === 'string' ? (sink.push(s), true) : (orig as (...a: unknown[]) => boolean).call(stream, s, ...rest))) as typeof process.stdout.write;
  process.stdout.write = capture(out, process.stdout, ow);
  process.stderr.write = capture(err, process.stderr, ew);
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}
