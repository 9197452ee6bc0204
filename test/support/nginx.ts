import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './net';

/**
 * Runs one of our nginx.conf files with the nginx on this machine (Debian's package in CI: .ci/run
 * installs it), on a loopback port. The file is served as written except for the few values a test
 * must move (listen port, web root, pid and temp paths), each replaced by an exact-text edit that
 * must match: if the file drifts, the test fails instead of silently serving something else.
 */

/** The nginx binary (NGINX_BIN when set, and then only that), or undefined when none is installed. */
export function findNginx(): string | undefined {
  const candidates = process.env.NGINX_BIN ? [process.env.NGINX_BIN] : ['/usr/sbin/nginx', '/usr/local/sbin/nginx', 'nginx'];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

export interface NginxEdit {
  /** Text that must occur in the file exactly `count` times. */
  readonly from: string;
  readonly to: string;
  /** @default 1 */
  readonly count?: number;
}

export interface RunningNginx {
  readonly port: number;
  readonly url: string;
  /** The folder nginx runs in: put web roots and includes here (0755, readable by nginx's workers). */
  readonly dir: string;
  /** Everything nginx wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Applies the edits, failing with the edit that did not match. */
export function editConfig(text: string, edits: readonly NginxEdit[]): string {
  let out = text;
  for (const edit of edits) {
    const found = out.split(edit.from).length - 1;
    if (found !== (edit.count ?? 1)) throw new Error(`nginx config edit: expected ${edit.count ?? 1} × ${JSON.stringify(edit.from)}, found ${found}`);
    out = out.split(edit.from).join(edit.to);
  }
  return out;
}

function waitForPort(port: number, child: ChildProcess, err: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited with ${child.exitCode}: ${err()}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms: ${err()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts nginx with `confPath` after `edits`; `prepare(dir, port)` returns the edits and may write
 * files into `dir` first. The port is a free loopback port.
 */
export async function startNginx(nginx: string, confPath: string, prepare: (dir: string, port: number) => NginxEdit[]): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'phenom-nginx-'));
  // nginx's workers drop to an unprivileged user when the test runs as root: they must read the files.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'run'), { mode: 0o755 });
  const port = await freeLoopbackPort();
  const conf = editConfig(readFileSync(confPath, 'utf8'), prepare(dir, port));
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, conf, { mode: 0o644 });
  // Files, not pipes, for stdout and stderr: our configs log to /dev/stdout and /dev/stderr, which
  // cannot be opened when they are sockets (ENXIO), as Node's pipes are.
  const outFile = join(dir, 'run', 'stdout.log');
  const errFile = join(dir, 'run', 'stderr.log');
  const [out, err] = [openSync(outFile, 'a'), openSync(errFile, 'a')];
  const stderr = () => readFileSync(errFile, 'utf8');
  const test = spawnSync(nginx, ['-t', '-p', dir, '-c', confFile], { stdio: ['ignore', out, err] });
  if (test.status !== 0) {
    closeSync(out);
    closeSync(err);
    throw new Error(`nginx -t refused ${confPath}: ${stderr()}`);
  }
  const child = spawn(nginx, ['-p', dir, '-c', confFile, '-g', 'daemon off;'], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  await waitForPort(port, child, stderr);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    stderr,
    stop: async () => {
      if (child.exitCode === null) {
        // QUIT: nginx's graceful shutdown of the master we started (and its workers).
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
