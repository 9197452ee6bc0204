/**
 * The floor row of `npm run bench:mcp`: the least any Node HTTP server in front of this backend
 * can cost while giving the same answer. One node:http server, the same PostgresBackend and pool,
 * the same two calls, the same result bytes, and nothing else: no MCP envelope checks, no token
 * check, no rate limit, no argument validation, no result budget, no logging. Its ratio to direct
 * pg is the ceiling of ours on this machine: the gap between the two rows is what our server
 * spends, the gap under the floor what the extra HTTP hop and process cost on two shared cores. It answers only what the bench sends, in the JSON-RPC shape
 * the bench's raw client reads. Bench-only: never bundled into the image.
 */
import { createServer } from 'node:http';
import { createBackend } from '../src/backend';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log';

async function main(): Promise<void> {
  const config = loadConfig();
  // Errors only: the floor logs nothing per call (the bench drains stdout; 'listening' is printed below).
  const backend = await createBackend(config.backendType, { env: process.env, log: createLogger('error') });
  const call = async (name: string, args: { room_id: string; limit?: number; content?: string }): Promise<unknown> => {
    if (name === 'chat_get_messages') return backend.getMessages({ roomId: args.room_id, limit: args.limit ?? 50, includeDeleted: false });
    if (name === 'chat_send_message') return { message: await backend.sendMessage({ roomId: args.room_id, content: args.content ?? '', messageType: 'text' }) };
    throw new Error(`the floor server serves only the bench's two tools, not ${name}`);
  };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; method: string; params: { name: string; arguments: never } };
      const answer = (result: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result }));
      if (body.method !== 'tools/call') return answer({});
      void call(body.params.name, body.params.arguments).then(
        // The same answer on the wire as ours: structuredContent, and its JSON as the text (what the
        // MCP spec recommends a tool with structured output also return).
        (structuredContent) => answer({ content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent }),
        (err: Error) => answer({ content: [{ type: 'text', text: err.message }], isError: true }),
      );
    });
  });
  http.keepAliveTimeout = 65_000;
  http.listen(config.port, config.host, () => console.log(JSON.stringify({ msg: 'listening', port: config.port })));
  process.once('SIGTERM', () => http.close(() => void backend.close().then(() => process.exit(0))));
}

void main();
