// What /metrics reports, in Prometheus' text exposition format (prometheus.io/docs/instrumenting/exposition_formats):
// counters (requests by route and status, tokens), gauges (queue depth, running sequences,
// tokens/s over the last 10 s) and histograms (time to first token, request latency).

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Histogram {
  readonly counts = new Array<number>(BUCKETS_S.length).fill(0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    BUCKETS_S.forEach((b, i) => {
      if (seconds <= b) this.counts[i]++;
    });
  }
  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    BUCKETS_S.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export class ServerMetrics {
  readonly requests = new Map<string, number>();
  generatedTokens = 0;
  promptTokens = 0;
  rewardItems = 0;
  /** policy requests submitted and not yet given a row */
  queued = 0;
  /** sequences decoding */
  running = 0;
  readonly ttft = new Histogram();
  readonly latency = new Histogram();
  private readonly recent: [number, number][] = [];

  request(route: string, status: number): void {
    const k = `route="${route}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  tokens(n: number, now = Date.now()): void {
    this.generatedTokens += n;
    this.recent.push([now, n]);
  }

  /** generated tokens per second over the last 10 s */
  tokensPerSecond(now = Date.now()): number {
    while (this.recent.length > 0 && this.recent[0][0] < now - 10_000) this.recent.shift();
    return this.recent.reduce((a, [, n]) => a + n, 0) / 10;
  }

  render(): string {
    const out: string[] = ['# HELP steer_requests_total HTTP requests by route and status', '# TYPE steer_requests_total counter'];
    for (const [k, v] of this.requests) out.push(`steer_requests_total{${k}} ${v}`);
    const scalar = (name: string, type: string, help: string, v: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${v}`);
    scalar('steer_generated_tokens_total', 'counter', 'tokens generated', this.generatedTokens);
    scalar('steer_prompt_tokens_total', 'counter', 'prompt tokens prefilled', this.promptTokens);
    scalar('steer_reward_items_total', 'counter', '(prompt, response) items scored', this.rewardItems);
    scalar('steer_queue_depth', 'gauge', 'requests waiting for a decode row', this.queued);
    scalar('steer_running_sequences', 'gauge', 'sequences in the running decode batch', this.running);
    scalar('steer_generation_tokens_per_second', 'gauge', 'tokens generated per second over the last 10 s', this.tokensPerSecond());
    out.push(this.ttft.render('steer_time_to_first_token_seconds', 'time from request to its first token'));
    out.push(this.latency.render('steer_request_duration_seconds', 'time from request to its last byte'));
    return out.join('\n') + '\n';
  }
}
