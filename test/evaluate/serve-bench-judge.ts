// The scripted benchmark judge the tests use (bench-judge.ts), as a server on 127.0.0.1 for a dry
// run of `steer eval` without a real judge: prints its base URL, serves until Ctrl-C.
//   node --import tsx test/evaluate/serve-bench-judge.ts
import { startFakeJudge } from './fake-judge.js';
import { benchReply } from './bench-judge.js';

void startFakeJudge(benchReply).then((judge) => {
  process.stdout.write(`${judge.url}\n`);
  process.once('SIGINT', () => void judge.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void judge.close().then(() => process.exit(0)));
});
