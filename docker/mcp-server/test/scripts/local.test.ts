import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freeLoopbackPort } from '../../../../test/support/net';
import { connect } from '../support/clients';

const SCRIPT = resolve(__dirname, '../../scripts/local.ts');

it('npm run local prints MCP_URL and MCP_TOKEN, serves the tools, and exits 0 on SIGTERM', async () => {
  const port = await freeLoopbackPort();
  // The same entry as `npm run local` (tsx docker/mcp-server/scripts/local.ts), in one process so SIGTERM reaches it.
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: resolve(__dirname, '../../../..'),
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const vars = await new Promise<Record<string, string>>((resolveVars, reject) => {
      const timer = setTimeout(() => reject(new Error(`no MCP_URL/MCP_TOKEN within 90 s:\n${stderr}`)), 90_000);
      proc.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const found = Object.fromEntries([...stdout.matchAll(/^(MCP_URL|MCP_TOKEN)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
        if (found.MCP_URL && found.MCP_TOKEN) {
          clearTimeout(timer);
          resolveVars(found);
        }
      });
      void exited.then((code) => reject(new Error(`local mode exited (${code}):\n${stderr}`)));
    });
    expect(vars.MCP_URL).toBe(`http://127.0.0.1:${port}/mcp`);

    const client = await connect('sdk-v1 (2025-11-25)', vars.MCP_URL, vars.MCP_TOKEN);
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
    proc.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(stdout.trim().split('\n')).toHaveLength(2); // only the two lines; logs go to stderr
}, 120_000);
