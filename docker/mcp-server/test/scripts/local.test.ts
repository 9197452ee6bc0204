import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { freeLoopbackPort } from '../../../../test/support/net';
import { connect } from '../support/clients';
import { bearer, postRpc, toolCall } from '../support/raw-rpc';

const REPO = resolve(__dirname, '../../../..');
const SCRIPT = resolve(__dirname, '../../scripts/local.ts');
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'local-test', version: '1' } } };

interface Started {
  proc: ChildProcess;
  vars: Record<string, string>;
  /** The embedded PostgreSQL's folder, from the worker's "database ready" log line. */
  dataDir: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * `npm run local` as people start it: through npm (`viaNpm`), or the script itself (what npm
 * execs), `detached` in a process group of its own as a terminal's foreground job is.
 */
async function startLocal(args: string[], options: { port: number; viaNpm?: boolean; detached?: boolean }): Promise<Started> {
  const [command, argv] = options.viaNpm ? ['npm', ['run', '--silent', 'local', '--', ...args]] : [process.execPath, ['--import', 'tsx', SCRIPT, ...args]];
  const proc = spawn(command, argv, { cwd: REPO, env: { ...process.env, PORT: String(options.port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const vars = await new Promise<Record<string, string>>((resolveVars, reject) => {
    const timer = setTimeout(() => reject(new Error(`no DATABASE_URL line within 90 s:\n${stderr}`)), 90_000);
    proc.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      // DATABASE_URL is the last line printed.
      if (/^DATABASE_URL=/m.test(stdout)) {
        clearTimeout(timer);
        resolveVars(Object.fromEntries([...stdout.matchAll(/^([A-Z0-9_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]])));
      }
    });
    void exited.then((code) => reject(new Error(`local mode exited (${code}):\n${stderr}`)));
  });
  const ready = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; dataDir?: string })
    .find((l) => l.msg === 'database ready');
  return { proc, vars, dataDir: ready!.dataDir!, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
const listening = (port: number) =>
  new Promise<boolean>((resolveOpen) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
const portOf = (url: string) => Number(new URL(url).port);

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nothing of the stack is left: the server's port, PostgreSQL's port and its folder are all gone. */
async function expectAllStopped(s: Started): Promise<void> {
  await until(async () => !(await listening(portOf(s.vars.MCP_URL))), 'the MCP server stopped listening');
  await until(async () => !(await listening(portOf(s.vars.DATABASE_URL))), 'PostgreSQL stopped listening');
  await until(() => !existsSync(s.dataDir), `${s.dataDir} was removed`);
}

describe('npm run local', () => {
  it('serves 64 agents, each with its own token and rate-limit bucket; Ctrl-C lets the call in flight finish, then stops PostgreSQL and removes its folder', async () => {
    const port = await freeLoopbackPort();
    // 1 request a minute after a burst of 3: exact counts, whatever the machine's speed.
    const s = await startLocal(['--agents', '64', '--rate-limit-per-minute', '1', '--rate-limit-burst', '3'], { port, detached: true });
    let db: Client | undefined;
    try {
      const tokens = [s.vars.MCP_TOKEN, ...Array.from({ length: 63 }, (_, i) => s.vars[`MCP_TOKEN_${i + 2}`])];
      expect(s.vars.MCP_URL).toBe(`http://127.0.0.1:${port}/mcp`);
      expect(tokens.every(Boolean)).toBe(true);
      expect(new Set(tokens.map((t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).client_id)).size).toBe(64);

      // Every agent connects and calls at once: none is refused (one shared bucket would refuse 61 of 64).
      const answers = await Promise.all(
        tokens.map(async (token) => {
          const init = await postRpc(s.vars.MCP_URL, INITIALIZE, bearer(token));
          const call = await postRpc(s.vars.MCP_URL, toolCall('chat_list_rooms', {}), bearer(token));
          return [init.status, call.status];
        }),
      );
      expect(answers.flat().filter((status) => status !== 200)).toEqual([]);
      // The configured burst holds per agent: agent 2's third request is its last.
      expect((await postRpc(s.vars.MCP_URL, toolCall('chat_list_rooms', {}), bearer(tokens[1]))).status).toBe(200);
      const limited = await postRpc(s.vars.MCP_URL, toolCall('chat_list_rooms', {}), bearer(tokens[1]));
      expect(limited.status).toBe(429);

      // The metadata names the loopback authorization server, and it answers (metadata, JWKS).
      const resourceMetadata = (await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`)).json()) as { authorization_servers: string[] };
      expect(resourceMetadata.authorization_servers).toEqual([s.vars.MCP_AUTHORIZATION_SERVER]);
      const asMetadata = (await (await fetch(`${s.vars.MCP_AUTHORIZATION_SERVER}/.well-known/oauth-authorization-server`)).json()) as { jwks_uri: string; code_challenge_methods_supported: string[] };
      expect(asMetadata.code_challenge_methods_supported).toEqual(['S256']);
      expect(((await (await fetch(asMetadata.jwks_uri)).json()) as { keys: unknown[] }).keys).toHaveLength(1);

      // A send held in flight by a table lock when Ctrl-C (SIGINT to the whole group) arrives.
      db = new Client({ connectionString: s.vars.DATABASE_URL });
      await db.connect();
      const room = (await db.query<{ id: string }>(`SELECT id FROM chat_rooms WHERE name = 'Phenom Community'`)).rows[0].id;
      await db.query('BEGIN');
      await db.query('LOCK TABLE chat_messages IN ACCESS EXCLUSIVE MODE');
      const inFlight = postRpc(s.vars.MCP_URL, toolCall('chat_send_message', { room_id: room, content: 'sent as Ctrl-C came' }), bearer(tokens[0]));
      await until(async () => (await db!.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`)).rows[0].n > 0, 'the send waits for the lock');
      process.kill(-s.proc.pid!, 'SIGINT');
      await until(() => s.stderr().includes('"msg":"shutting down"'), 'the server began its drain');
      await db.query('COMMIT');
      await db.end();
      db = undefined;

      const answer = await inFlight;
      expect(answer.status).toBe(200);
      const result = (JSON.parse(answer.text) as { result: { isError?: boolean; structuredContent: { message: { content: string } } } }).result;
      expect(result.isError).toBeUndefined();
      expect(result.structuredContent.message.content).toBe('sent as Ctrl-C came');
      expect(await s.exited).toBe(0);
      await expectAllStopped(s);
    } finally {
      await db?.end().catch(() => undefined);
      if (s.proc.exitCode === null) process.kill(-s.proc.pid!, 'SIGTERM');
    }
  }, 120_000);

  it('--no-auth serves without tokens (the conformance suite sends none); SIGTERM to npm alone stops everything, leaving nothing behind', async () => {
    const port = await freeLoopbackPort();
    const s = await startLocal(['--no-auth'], { port, viaNpm: true });
    try {
      expect(Object.keys(s.vars).filter((k) => k.startsWith('MCP_TOKEN'))).toEqual([]);
      expect(
        s
          .stdout()
          .trim()
          .split('\n')
          .map((l) => l.split('=')[0]),
      ).toEqual(['MCP_URL', 'DATABASE_URL']); // logs go to stderr
      // The official SDK client, sending no Authorization header at all.
      const client = await connect('sdk-v1 (2025-11-25)', s.vars.MCP_URL);
      try {
        const rooms = (await client.callTool('chat_list_rooms', {})).structuredContent?.rooms as { id: string; name: string; member_count: number }[];
        expect(rooms.map((r) => r.name).sort()).toEqual(['Phenom Community', 'Phenom Internal', 'Phenom Partners']);
        expect(rooms.every((r) => r.member_count === 1)).toBe(true); // the agent, in every room
        const sent = await client.callTool('chat_send_message', { room_id: rooms[0].id, content: 'hello from local mode' });
        expect(sent.isError).toBeFalsy();
      } finally {
        await client.close();
      }
    } finally {
      s.proc.kill('SIGTERM'); // npm's pid only, as a process manager stops it
    }
    await expectAllStopped(s);
  }, 120_000);

  it('a taken port is said plainly, with what to do, before PostgreSQL starts', async () => {
    const taken = createServer();
    const port = await freeLoopbackPort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    try {
      const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { cwd: REPO, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((r) => proc.once('exit', r));
      expect(code).toBe(1);
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use (another npm run local?). Stop that process, or pick another port: PORT=${port + 1} npm run local`);
      expect(stderr).not.toContain('database ready');
    } finally {
      taken.close();
    }
  }, 60_000);

  it('a bad option stops with the usage and status 2, starting nothing', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--agents', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await new Promise<number | null>((r) => proc.once('exit', r))).toBe(2);
    expect(stderr).toContain('npm run local: --agents must be at least 1');
    expect(stderr).toContain('usage: npm run local');
  }, 60_000);
});
