// A client of Ray's Jobs REST API (the dashboard, default port 8265), as Ray 2.60 serves it
// (ray/dashboard/modules/job/job_head.py):
//   GET  /api/version                               is this a Ray dashboard
//   GET  /api/packages/{protocol}/{name}            does a working_dir package exist (404: no)
//   PUT  /api/packages/{protocol}/{name}            upload one (body: the zip)
//   POST /api/jobs/                                 submit {entrypoint, submission_id, runtime_env,
//                                                   metadata, entrypoint_num_cpus/gpus} → {submission_id}
//   GET  /api/jobs/                                 list (JobDetails[])
//   GET  /api/jobs/{id}                             status: PENDING | RUNNING | STOPPED | SUCCEEDED | FAILED,
//                                                   message, driver_exit_code
//   GET  /api/jobs/{id}/logs                        {logs}: the whole driver log so far
//   POST /api/jobs/{id}/stop                        {stopped}
// Transient failures (connection reset, timeouts, HTTP 5xx/429) are retried with exponential backoff;
// what is not transient (refused connection after the retries, 4xx) becomes one clear UserError.
// A head node that has just started answers job submissions with HTTP 500 "No available agent to
// submit job, please try again later." until its dashboard agent registers (seconds to a minute on
// a busy machine): that answer is retried for up to agentWaitMs, beyond the attempts.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { UserError, describeValue } from '../util/errors.js';
import { directoryEntries, zipEntries } from '../io/zip.js';

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'STOPPED', 'SUCCEEDED', 'FAILED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL: ReadonlySet<JobStatus> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

export interface JobDetails {
  submission_id: string | null;
  job_id: string | null;
  type?: string;
  status: JobStatus;
  entrypoint: string;
  message?: string | null;
  start_time?: number | null;
  end_time?: number | null;
  metadata?: Record<string, string> | null;
  driver_exit_code?: number | null;
  [k: string]: unknown;
}

export interface SubmitRequest {
  entrypoint: string;
  submission_id?: string;
  runtime_env?: Record<string, unknown>;
  metadata?: Record<string, string>;
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
}

export interface RayClientOptions {
  /** Attempts per request for transient failures (default 5). */
  attempts?: number;
  /** First backoff delay in ms (doubles each retry; default 500). */
  backoffMs?: number;
  /** Per-request timeout in ms (default 60 s; uploads get 10 min). */
  timeoutMs?: number;
  /** How long to keep retrying while the cluster has no job agent yet (default 90 s). */
  agentWaitMs?: number;
  /** Notes on retries (default: stderr). */
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A validated dashboard base URL (no trailing slash). */
export function rayAddress(address: string): string {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new UserError({ what: 'the Ray address is not a URL', where: '--ray', received: describeValue(address), fix: 'pass the dashboard address, e.g. http://HEAD:8265' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UserError({ what: 'the Ray address must be the dashboard\'s http(s) URL', where: '--ray', received: describeValue(address), fix: 'pass e.g. http://HEAD:8265 (not ray://…:10001, the client port)' });
  }
  return u.toString().replace(/\/+$/, '');
}

class Transient extends Error {}

/**
 * One HTTP exchange with node:http(s). Not fetch(): undici's fetch sends Sec-Fetch-Mode, and Ray's
 * dashboard treats any request with a Sec-Fetch-* header as browser traffic and refuses PUT/POST
 * from it (ray/dashboard/optional_utils.py is_browser_request).
 */
function httpRequest(method: string, url: string, body: Uint8Array | string | undefined, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const data = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return new Promise((resolvePromise, reject) => {
    const req = lib.request(u, { method, headers: { 'user-agent': 'steer', ...(data ? { ...headers, 'content-length': String(data.length) } : {}) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(data);
  });
}

export class RayJobsClient {
  readonly address: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly agentWaitMs: number;
  private readonly log: (line: string) => void;

  constructor(address: string, opts: RayClientOptions = {}) {
    this.address = rayAddress(address);
    this.attempts = opts.attempts ?? 5;
    this.backoffMs = opts.backoffMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.agentWaitMs = opts.agentWaitMs ?? 90_000;
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
  }

  /** One request with retries; returns the status and body text of a non-5xx answer. */
  private async request(method: string, path: string, body?: Uint8Array | string, opts: { timeoutMs?: number; contentType?: string } = {}): Promise<{ status: number; text: string }> {
    const url = this.address + path;
    let delay = this.backoffMs;
    let last = '';
    const started = Date.now();
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        let res: { status: number; text: string };
        try {
          res = await httpRequest(method, url, body, { 'content-type': opts.contentType ?? 'application/json' }, opts.timeoutMs ?? this.timeoutMs);
        } catch (e) {
          throw new Transient((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        }
        const text = res.text;
        if (res.status >= 500 || res.status === 429) throw new Transient(`HTTP ${res.status}: ${text.trim().split('\n').pop()?.slice(0, 300) ?? ''}`);
        return { status: res.status, text };
      } catch (e) {
        if (!(e instanceof Transient)) throw e;
        last = e.message;
        // A refused or unknown address is most likely wrong, not restarting: give up sooner.
        const hopeless = /ECONNREFUSED|ENOTFOUND/.test(last) && attempt >= 2;
        // a head node still starting: wait for its agent (not counted as an attempt), 5 s at most between tries
        if (/No available agent/i.test(last) && Date.now() - started + Math.min(delay, 5000) <= this.agentWaitMs) {
          this.log(`steer: ${method} ${url}: the cluster has no job agent yet (it is starting); retrying in ${(Math.min(delay, 5000) / 1000).toFixed(1)} s`);
          await sleep(Math.min(delay, 5000));
          delay = Math.min(delay * 2, 5000);
          attempt--;
          continue;
        }
        if (attempt < this.attempts && !hopeless) {
          this.log(`steer: ${method} ${url} failed (${last}); retrying in ${(delay / 1000).toFixed(1)} s (${attempt}/${this.attempts - 1})`);
          await sleep(delay);
          delay *= 2;
        } else break;
      }
    }
    const refused = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/.test(last);
    throw new UserError({
      what: refused ? `cannot reach the Ray dashboard (${last})` : `the Ray dashboard kept failing (${last})`,
      where: `${method} ${url}`,
      fix: refused ? 'check --ray: the head node\'s dashboard address (default port 8265; `ray start --head --dashboard-host 0.0.0.0` to listen beyond localhost)' : 'check the dashboard\'s logs on the head node (/tmp/ray/session_latest/logs/dashboard*.log)',
    });
  }

  private async json<T>(method: string, path: string, body?: unknown, okStatuses: number[] = [200]): Promise<T> {
    const r = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (!okStatuses.includes(r.status)) {
      throw new UserError({ what: `the Ray dashboard answered HTTP ${r.status}`, where: `${method} ${this.address}${path}`, received: describeValue(r.text.trim().split('\n').slice(-3).join(' | '), 400), fix: r.status === 404 ? 'check the job id (`steer jobs list`) and that --ray is a Ray dashboard' : 'see the message above' });
    }
    try {
      return JSON.parse(r.text) as T;
    } catch {
      throw new UserError({ what: 'the Ray dashboard did not answer JSON', where: `${method} ${this.address}${path}`, received: describeValue(r.text, 200), fix: 'check that --ray is a Ray dashboard address (http://HEAD:8265)' });
    }
  }

  /** The cluster's Ray version (also checks that the address is a Ray dashboard). */
  async version(): Promise<string> {
    const v = await this.json<{ ray_version?: string }>('GET', '/api/version');
    if (typeof v.ray_version !== 'string') throw new UserError({ what: 'the address does not look like a Ray dashboard (no ray_version in /api/version)', where: this.address, fix: 'pass the head node\'s dashboard address, e.g. http://HEAD:8265' });
    return v.ray_version;
  }

  /** Upload a zip as a gcs:// working_dir package unless the cluster has it; returns its URI. */
  async uploadPackage(zip: Uint8Array): Promise<string> {
    const name = `_ray_pkg_${createHash('sha256').update(zip).digest('hex').slice(0, 32)}.zip`;
    const path = `/api/packages/gcs/${name}`;
    const head = await this.request('GET', path);
    if (head.status !== 200) {
      const put = await this.request('PUT', path, zip, { timeoutMs: 600_000, contentType: 'application/zip' });
      if (put.status !== 200) {
        throw new UserError({ what: `the Ray dashboard refused the job package (HTTP ${put.status})`, where: `PUT ${this.address}${path}`, received: describeValue(put.text, 300), fix: put.status === 413 ? 'the package is too large: keep big models on shared storage' : 'check the dashboard\'s log on the head node' });
      }
    }
    return `gcs://${name}`;
  }

  async submit(req: SubmitRequest): Promise<string> {
    const r = await this.request('POST', '/api/jobs/', JSON.stringify(req));
    if (r.status !== 200) {
      throw new UserError({ what: `Ray refused the job (HTTP ${r.status})`, where: `POST ${this.address}/api/jobs/`, received: describeValue(r.text.trim().split('\n').slice(-2).join(' | '), 400), fix: 'see the message; a submission id can be used once only' });
    }
    const body = JSON.parse(r.text) as { submission_id?: string; job_id?: string };
    const id = body.submission_id ?? body.job_id;
    if (!id) throw new UserError({ what: 'Ray accepted the job but returned no submission id', received: describeValue(r.text, 200), where: this.address });
    return id;
  }

  status(id: string): Promise<JobDetails> {
    return this.json<JobDetails>('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }

  async logs(id: string): Promise<string> {
    return (await this.json<{ logs: string }>('GET', `/api/jobs/${encodeURIComponent(id)}/logs`)).logs ?? '';
  }

  async stop(id: string): Promise<boolean> {
    return (await this.json<{ stopped: boolean }>('POST', `/api/jobs/${encodeURIComponent(id)}/stop`)).stopped;
  }

  list(): Promise<JobDetails[]> {
    return this.json<JobDetails[]>('GET', '/api/jobs/');
  }
}

/** The exit code a finished job maps to: 0 succeeded, its driver's code when it failed (1 if unknown), 130 stopped. */
export function jobExitCode(d: JobDetails): number {
  if (d.status === 'SUCCEEDED') return 0;
  if (d.status === 'STOPPED') return 130;
  const c = d.driver_exit_code;
  return typeof c === 'number' && c > 0 && c < 256 ? c : 1;
}

export interface WatchOptions {
  /** Poll interval (default 1 s). */
  pollMs?: number;
  /** Each new piece of the driver log, in order. */
  onLog?: (text: string) => void;
  /** Status changes. */
  onStatus?: (d: JobDetails) => void;
  /** Aborting stops the job (Ctrl-C) and keeps watching until Ray says it stopped. */
  signal?: AbortSignal;
}

/** Follow a job to its end, streaming its log; returns its final details. */
export async function watchJob(client: RayJobsClient, id: string, o: WatchOptions = {}): Promise<JobDetails> {
  let shown = 0;
  let lastStatus = '';
  let stopAsked = false;
  const flushLogs = async () => {
    const text = await client.logs(id);
    if (text.length > shown) {
      o.onLog?.(text.slice(shown));
      shown = text.length;
    }
  };
  for (;;) {
    if (o.signal?.aborted && !stopAsked) {
      stopAsked = true;
      await client.stop(id);
    }
    const d = await client.status(id);
    if (d.status !== lastStatus) {
      lastStatus = d.status;
      o.onStatus?.(d);
    }
    await flushLogs();
    if (TERMINAL.has(d.status)) return d;
    await sleep(o.pollMs ?? 1000);
  }
}

export interface LaunchOptions {
  /** Where the job writes its result (its STEER_JOB_OUTPUT): a path the cluster's nodes can write. */
  output: string;
  entrypoint: string;
  cpus: number;
  gpus: number;
  submissionId?: string;
  env?: Record<string, string>;
  metadata?: Record<string, string>;
  /** Top-level names of the job directory not to upload (e.g. a local output/). */
  exclude?: string[];
}

/** Package a job directory, upload it and submit it; returns the submission id. */
export async function submitJobDir(client: RayJobsClient, dir: string, o: LaunchOptions): Promise<{ id: string; packageUri: string; packageBytes: number }> {
  const zip = zipEntries(directoryEntries(dir, o.exclude ?? ['output']));
  const packageUri = await client.uploadPackage(zip);
  const id = await client.submit({
    entrypoint: o.entrypoint,
    ...(o.submissionId ? { submission_id: o.submissionId } : {}),
    runtime_env: { working_dir: packageUri, env_vars: { PYTHONUNBUFFERED: '1', ...o.env } },
    metadata: o.metadata ?? {},
    entrypoint_num_cpus: o.cpus,
    entrypoint_num_gpus: o.gpus,
  });
  return { id, packageUri, packageBytes: zip.length };
}
