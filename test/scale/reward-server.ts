// A steer reward model behind steer's reward protocol (src/policy/reward.ts header):
//   POST {"prompts": [...], "responses": [...]} → {"rewards": [...]}
// for the RLOO job's reward function. `steer serve` serves the same protocol; this keeps the test
// independent of it. Runnable alone: node --import tsx test/scale/reward-server.ts RM_DIR PORT
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RewardScorer } from '../../src/reward/score.js';

export interface RewardServer {
  url: string;
  /** (prompt, response) pairs scored so far */
  scored: number;
  close(): Promise<void>;
}

export async function startRewardServer(rmDir: string, port = 0): Promise<RewardServer> {
  const scorer = RewardScorer.load(rmDir, { threads: 1 });
  const state = { scored: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompts: string[]; responses: string[] };
        const rewards = await scorer.rewards(body.prompts.map((prompt, i) => ({ prompt, response: body.responses[i] })));
        state.scored += rewards.length;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rewards }));
      } catch (e) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: (e as Error).message } }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}/reward`,
    get scored() {
      return state.scored;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

if (process.argv[1]?.endsWith('reward-server.ts') && process.argv[2]) {
  const s = await startRewardServer(process.argv[2], Number(process.argv[3] ?? 0));
  process.stdout.write(s.url + '\n');
}
