// A local OpenAI-compatible chat-completions server for tests (127.0.0.1, port 0): scripted
// failures, delays and replies; counts requests and the most requests it saw in flight at once.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeReply {
  text: string;
  /** top log-probs of the first token */
  top?: { token: string; logprob: number }[];
}

export interface FakeJudge {
  url: string;
  requests: number;
  maxInFlight: number;
  bodies: { messages: { role: string; content: string }[]; [k: string]: unknown }[];
  /** statuses to answer with before succeeding (consumed one per request) */
  failures: { status: number; retryAfter?: string }[];
  /** delay before answering, per request number (1-based) */
  delayMs: (n: number) => number;
  reply: (messages: { role: string; content: string }[]) => FakeReply;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

export async function startFakeJudge(reply: FakeJudge['reply']): Promise<FakeJudge> {
  let inFlight = 0;
  const fake: FakeJudge = {
    url: '',
    requests: 0,
    maxInFlight: 0,
    bodies: [],
    failures: [],
    delayMs: () => 0,
    reply,
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const n = ++fake.requests;
    inFlight++;
    fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
    try {
      const body = JSON.parse(await readBody(req));
      fake.bodies.push(body);
      const delay = fake.delayMs(n);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') {
        res.writeHead(404).end('not found');
        return;
      }
      const fail = fake.failures.shift();
      if (fail) {
        res.writeHead(fail.status, fail.retryAfter !== undefined ? { 'retry-after': fail.retryAfter } : {}).end('{"error": "scripted"}');
        return;
      }
      const r = fake.reply(body.messages);
      const completion = {
        id: `chatcmpl-${n}`,
        object: 'chat.completion',
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: r.text },
            finish_reason: 'stop',
            logprobs: r.top ? { content: [{ token: r.text, logprob: r.top[0]?.logprob ?? 0, top_logprobs: r.top }] } : null,
          },
        ],
        usage: { prompt_tokens: JSON.stringify(body.messages).length, completion_tokens: r.text.length, total_tokens: 0 },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion));
    } catch (e) {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return fake;
}
