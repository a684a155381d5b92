// A real single-node Ray cluster for tests: `ray start --head --block` from .venv on loopback, with
// its own temp dir and free ports, in its own process group; stop() ends that group only (never
// `ray stop`, which would end every Ray on the machine).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { venvBin } from '../helpers/python.js';

export interface RayCluster {
  address: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function up(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

export async function startRayCluster(opts: { cpus?: number; timeoutMs?: number } = {}): Promise<RayCluster> {
  // Short temp path: Ray's unix sockets live under it (107-byte limit).
  const temp = mkdtempSync('/tmp/steer-ray-');
  const [dashboard, client, agent] = [await freePort(), await freePort(), await freePort()];
  const args = ['start', '--head', '--block', '--num-cpus', String(opts.cpus ?? 2), '--port', '0', '--dashboard-port', String(dashboard), '--dashboard-host', '127.0.0.1', '--include-dashboard', 'true', '--ray-client-server-port', String(client), '--dashboard-agent-listen-port', String(agent), '--temp-dir', temp, '--disable-usage-stats'];
  let log = '';
  const child: ChildProcess = spawn(join(venvBin, 'ray'), args, {
    detached: true, // its own process group: stop() signals exactly this cluster
    // the job's entry point runs `python`: the venv's, first on PATH (as with an activated venv)
    env: { ...process.env, PATH: `${venvBin}:${process.env.PATH}`, RAY_USAGE_STATS_ENABLED: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const address = `http://127.0.0.1:${dashboard}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    // workers Ray forked into the group may outlive the leader by a moment
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* none left */
    }
    rmSync(temp, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  while (!(await up(`${address}/api/version`))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`ray start failed or timed out:\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { address, stop };
}
