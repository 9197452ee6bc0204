import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeLoopbackPort } from '../../../../test/support/net';

const PACKAGE_ROOT = resolve(__dirname, '../..');

/**
 * Builds dist/server.js with the package's own build script (the file the Docker image runs),
 * into a temp dir so parallel test files never overwrite each other's bundle.
 */
export function buildServerBundle(): string {
  const outfile = join(mkdtempSync(join(tmpdir(), 'mcp-bundle-')), 'server.js');
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts/build.mjs'), outfile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  return outfile;
}

export interface ServerProcess {
  readonly url: string; // http://127.0.0.1:port
  readonly mcpUrl: string;
  readonly port: number;
  readonly proc: ChildProcess;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** Raw stdout+stderr so far (for asserting what was never logged). */
  output(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node bundle` with `env` on a free loopback port and waits for its "listening" line. */
export async function startServerProcess(bundle: string, env: Record<string, string>, options: { keepOutput?: boolean; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const keep = options.keepOutput ?? true;
  const port = await freeLoopbackPort();
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), bundle], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), MCP_RESOURCE_URL: `http://127.0.0.1:${port}/mcp`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let raw = '';
  let pending = '';
  let ready = false;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${raw}`)), 20_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      if (ready && !keep) return; // benchmarks: drain the pipe without keeping every log line
      raw += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'listening') {
            ready = true;
            clearTimeout(timer);
            resolveReady();
          }
        } catch {
          // not a log line
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${raw}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    mcpUrl: `${url}/mcp`,
    port,
    proc,
    logs,
    output: () => raw,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}
