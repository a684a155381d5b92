// Progress with ETA for long work. Draws a bar on a TTY; silent when stderr is not a TTY or when
// quiet is set (metrics files carry the numbers either way).
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  quiet?: boolean;
  /** Stream to draw on; defaults to stderr. */
  stream?: NodeJS.WriteStream;
}

export interface Progress {
  /** Advance to `done` of `total`, with optional key=value fields shown after the bar. */
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export function startProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY) {
    return { update() {}, stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} {percentage}% · ETA {eta_formatted} {fields}`,
      stream,
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { fields: '' });
  return {
    update(done, fields) {
      const f = fields
        ? Object.entries(fields)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`)
            .join(' ')
        : '';
      bar.update(done, { fields: f });
    },
    stop() {
      bar.stop();
    },
  };
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}
