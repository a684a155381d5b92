// Every op, forward: ONNX Runtime (float32, and float64 for the core ops) against the plain
// reference interpreter on seeded random inputs with broadcast and size-1 dimensions.
import { test } from 'node:test';
import { interpret } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/index.js';
import { assertClose } from '../helpers/close.js';
import { CASES, buildCase, makeFeeds } from './cases.js';
import { toNumbers, typedFeeds } from './feeds.js';

for (const [k, c] of CASES.entries()) {
  test(`forward, ONNX Runtime float32 = reference: ${c.name}`, async () => {
    const { g, ins, out } = buildCase(c, 'float32');
    const feeds = typedFeeds(ins, makeFeeds(c, 100 + k));
    const exe = await compile(g, { inputs: ins, outputs: { out }, threads: 1 });
    const got = (await exe.run(feeds)).out;
    const want = interpret(g, { out }, feeds).out;
    assertClose(toNumbers(got), want, { rtol: c.rtol ?? 2e-5, atol: 2e-5, what: c.name });
  });
}

// ONNX Runtime's CPU provider has float64 kernels for these; the rest are float32-only there
// (the interpreter covers float64 for every op).
const FLOAT64_OK = ['add (broadcast', 'mul (broadcast', 'div (', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'matmul batch broadcast', 'sum over axes', 'mean over', 'max over', 'softmax axis -1', 'logSoftmax', 'gather rows', 'takeAlongAxis (', 'scatterND add', 'concat', 'transpose', 'where ('];
for (const [k, c] of CASES.entries()) {
  if (!FLOAT64_OK.some((p) => c.name.startsWith(p))) continue;
  test(`forward, ONNX Runtime float64 = reference: ${c.name}`, async () => {
    const { g, ins, out } = buildCase(c, 'float64');
    const feeds = typedFeeds(ins, makeFeeds(c, 100 + k));
    const exe = await compile(g, { inputs: ins, outputs: { out }, threads: 1 });
    const got = (await exe.run(feeds)).out;
    const want = interpret(g, { out }, feeds).out;
    assertClose(toNumbers(got), want, { rtol: 1e-12, atol: 1e-12, what: c.name });
  });
}
