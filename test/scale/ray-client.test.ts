// RayJobsClient against a head node that is still starting: Ray's job head answers a submission with
// HTTP 500 "No available agent to submit job, please try again later." until its dashboard agent
// registers. The client keeps retrying that answer (beyond its attempts) for agentWaitMs, then
// submits; other 5xx answers still give up after the attempts. (A local HTTP server speaks the
// answers Ray 2.60's job_head.py gives; the real cluster path is test/scale/ray-trl.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RayJobsClient } from '../../src/scale/ray.js';
import { isUserError } from '../../src/util/errors.js';

async function head(answers: { status: number; body: string }[]): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answers[Math.min(n++, answers.length - 1)];
      res.writeHead(a.status, { 'content-type': a.status === 200 ? 'application/json' : 'text/plain' }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

const NO_AGENT = { status: 500, body: 'No available agent to submit job, please try again later.' };

test('RayJobsClient: a starting head (no job agent yet) is waited for beyond the attempts; other 5xx are not', async () => {
  const starting = await head([NO_AGENT, NO_AGENT, NO_AGENT, NO_AGENT, { status: 200, body: JSON.stringify({ submission_id: 'raysubmit_1' }) }]);
  const lines: string[] = [];
  try {
    // 2 attempts would give up after the second 500; the agent wait lets the fifth answer through
    const client = new RayJobsClient(starting.url, { attempts: 2, backoffMs: 10, agentWaitMs: 5000, log: (l) => lines.push(l) });
    assert.equal(await client.submit({ entrypoint: 'python -c 1' }), 'raysubmit_1');
    assert.equal(starting.calls(), 5);
    assert.equal(lines.filter((l) => /no job agent yet/.test(l)).length, 4);
  } finally {
    await starting.close();
  }
  // the wait is bounded: an agent that never comes ends in the usual error once agentWaitMs is spent
  const never = await head([NO_AGENT]);
  try {
    const client = new RayJobsClient(never.url, { attempts: 2, backoffMs: 50, agentWaitMs: 400, log: () => {} });
    const t0 = Date.now();
    await assert.rejects(client.submit({ entrypoint: 'python -c 1' }), (e) => isUserError(e) && /kept failing/.test(e.message));
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    await never.close();
  }
  // any other 500 counts against the attempts: 2 attempts, 2 calls
  const broken = await head([{ status: 500, body: 'Internal Server Error' }]);
  try {
    const client = new RayJobsClient(broken.url, { attempts: 2, backoffMs: 10, agentWaitMs: 5000, log: () => {} });
    await assert.rejects(client.submit({ entrypoint: 'python -c 1' }), (e) => isUserError(e) && /kept failing/.test(e.message));
    assert.equal(broken.calls(), 2);
  } finally {
    await broken.close();
  }
});
