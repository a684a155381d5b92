// A scripted judge (and policy) for the benchmark end-to-end tests, served by startFakeJudge: it
// recognises each official judge prompt and answers in that judge's format, deterministically
// from a hash of what it was shown, so verdicts vary across questions but a rerun gets the same.
//   MT-Bench single grading  "Rating: [[k]]", k ∈ 1..10 (1 in 8 replies "[k]" only, the backup
//                            pattern); MT-Bench question 82 gets no rating at all (FastChat: −1)
//   Arena-Hard               a verdict among A>>B … B>>A; 1 in 6 first replies give none (the
//                            official code asks again), then "[[A=B]]"
//   AlpacaEval (m / M)       one token with top-5 log-probs of m and M (the weaker one listed twice,
//                            so the parser's last-wins rule matters)
//   anything else            a policy answer: "Answer <hash>: <first words of the question>"
import { createHash } from 'node:crypto';
import type { FakeReply } from './fake-judge.js';

const h = (s: string) => createHash('sha256').update(s).digest().readUInt32BE(0);

export function benchReply(messages: { role: string; content: string }[]): FakeReply {
  const system = messages[0]?.role === 'system' ? messages[0].content : '';
  const user = messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
  const key = h(JSON.stringify(messages));
  if (system.includes('Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user prompt')) {
    if (messages.length === 2 && key % 6 === 0) return { text: 'Both answers have merits; I need to think more.' };
    if (messages.length > 2) return { text: 'My final verdict is tie: [[A=B]]' };
    const v = ['A>>B', 'A>B', 'A=B', 'B>A', 'B>>A'][key % 5];
    return { text: `Assistant answers compared. My final verdict is: [[${v}]]` };
  }
  if ((system + user).includes('"[[rating]]"')) {
    const k = 1 + (key % 10);
    if (user.includes('Draft a professional email')) return { text: 'I cannot rate this answer.' }; // unparseable: score −1, dropped (show_result)
    return { text: key % 8 === 0 ? `The answer is fair. Rating: [${k}]` : `The answer is fair.\n\nRating: [[${k}]]` };
  }
  if (system.includes('evaluates and selects the best large language model')) {
    const pm = 0.05 + 0.9 * ((key % 1000) / 1000);
    const [first, second] = pm >= 0.5 ? ['m', 'M'] : ['M', 'm'];
    const lp = (t: string) => Math.log(t === 'm' ? pm : 1 - pm);
    // the weaker token appears twice, first with a decoy value: the official parser keeps the last
    return { text: first, top: [{ token: first, logprob: lp(first) }, { token: second, logprob: lp(second) - 3 }, { token: 'Both', logprob: -9 }, { token: second, logprob: lp(second) }, { token: 'The', logprob: -12 }] };
  }
  const words = user.split(/\s+/).slice(0, 6).join(' ');
  return { text: `Answer ${key % 97}: ${words}${key % 3 === 0 ? '\n\n## Notes\n- one\n- **two**' : ''}` };
}
