import type { IncomingMessage } from 'node:http';
import { hotRequest } from '../../src/http/fast-path';
import { AGENT, ALICE } from '../support/chat-fixture';
import { startEnvironment, type Environment } from '../support/environment';
import { bearer, postRpc, toolCall } from '../support/raw-rpc';

/**
 * The fast path (src/http/fast-path.ts) must answer exactly as the SDK's stateless serving does.
 * Each case is sent twice to the bundled server: as is (the fast path serves it) and with an
 * empty params._meta, which the fast path leaves to the SDK although it asks for nothing more;
 * both answers must be the same JSON, status and content type.
 */
let env: Environment;

beforeAll(async () => {
  env = await startEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
const asRequest = (headers: Record<string, string>) => ({ method: 'POST', headers }) as unknown as IncomingMessage;
const withEmptyMeta = (body: { params?: Record<string, unknown> }) => ({ ...body, params: { ...body.params, _meta: {} } });

describe('which requests take the fast path', () => {
  it('takes tools/list and tools/call of a chat tool in their plain form', () => {
    expect(hotRequest(asRequest(HEADERS), { jsonrpc: '2.0', id: 1, method: 'tools/list' })).toEqual({ method: 'tools/list', id: 1 });
    expect(hotRequest(asRequest(HEADERS), { jsonrpc: '2.0', id: 'a', method: 'tools/list', params: {} })).toEqual({ method: 'tools/list', id: 'a' });
    expect(hotRequest(asRequest(HEADERS), toolCall('chat_list_rooms', {}))).toMatchObject({ method: 'tools/call', id: 1, tool: { name: 'chat_list_rooms' }, args: {} });
    expect(hotRequest(asRequest(HEADERS), { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'chat_list_rooms' } })).toMatchObject({ method: 'tools/call', args: undefined });
    expect(hotRequest(asRequest({ ...HEADERS, 'content-type': 'application/json; charset=utf-8' }), toolCall('chat_list_rooms', {}))).toBeDefined();
  });

  it.each<[string, Record<string, string>, unknown]>([
    ['an empty _meta', HEADERS, withEmptyMeta(toolCall('chat_list_rooms', {}))],
    ['a progress token', HEADERS, { ...toolCall('chat_list_rooms', {}), params: { name: 'chat_list_rooms', arguments: {}, _meta: { progressToken: 1 } } }],
    ['a tools/list cursor', HEADERS, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { cursor: 'x' } }],
    ['an unknown tool', HEADERS, toolCall('chat_explode', {})],
    ['a prototype tool name', HEADERS, toolCall('constructor', {})],
    ['arguments that are an array', HEADERS, { ...toolCall('chat_list_rooms', {}), params: { name: 'chat_list_rooms', arguments: [] } }],
    ['a name that is not a string', HEADERS, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 5 } }],
    ['an extra envelope key', HEADERS, { ...toolCall('chat_list_rooms', {}), extra: true }],
    ['jsonrpc 1.0', HEADERS, { ...toolCall('chat_list_rooms', {}), jsonrpc: '1.0' }],
    ['a fractional id', HEADERS, toolCall('chat_list_rooms', {}, 1.5)],
    ['a null id', HEADERS, { ...toolCall('chat_list_rooms', {}), id: null }],
    ['no id (a notification)', HEADERS, { jsonrpc: '2.0', method: 'tools/list' }],
    ['initialize', HEADERS, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }],
    ['ping', HEADERS, { jsonrpc: '2.0', id: 1, method: 'ping' }],
    ['an Accept without SSE', { ...HEADERS, accept: 'application/json' }, toolCall('chat_list_rooms', {})],
    ['a text/plain body', { ...HEADERS, 'content-type': 'text/plain' }, toolCall('chat_list_rooms', {})],
    ['a batch', HEADERS, [toolCall('chat_list_rooms', {})]],
  ])('leaves %s to the SDK', (_label, headers, body) => {
    expect(hotRequest(asRequest(headers), body)).toBeUndefined();
  });
});

describe('the fast path answers as the SDK does', () => {
  const room = () => env.fixture.rooms.community;
  /** [label, request body]; every one of them is a hot request. */
  const CASES: [string, () => { params?: Record<string, unknown> }][] = [
    ['tools/list', () => ({ jsonrpc: '2.0', id: 7, method: 'tools/list' })],
    ['chat_list_rooms with a string id', () => ({ ...toolCall('chat_list_rooms', {}), id: 'req-1' })],
    ['chat_list_rooms without arguments', () => ({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'chat_list_rooms' } })],
    ['chat_get_messages', () => toolCall('chat_get_messages', { room_id: room(), limit: 5 })],
    ['chat_list_members', () => toolCall('chat_list_members', { room_id: room() })],
    ['invalid arguments (isError)', () => toolCall('chat_get_messages', { room_id: room(), limit: 500 })],
    ['an unknown argument (isError)', () => toolCall('chat_list_rooms', { room: 'x' })],
    ['an own __proto__ argument (isError)', () => JSON.parse(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"chat_list_rooms","arguments":{"__proto__":{"x":1}}}}`)],
    ['a backend refusal (isError)', () => toolCall('chat_get_messages', { room_id: '11111111-1111-4111-8111-111111111111' })],
    ['a retried send (the stored message)', () => toolCall('chat_send_message', { room_id: room(), content: 'fast path retry', client_message_id: 'fast-path-1' })],
    ['an unmute', () => toolCall('chat_unmute_user', { room_id: room(), user_id: ALICE })],
  ];

  beforeAll(async () => {
    // The send case compares two retries of a message already stored, so both answers are that message.
    await postRpc(env.server.mcpUrl, toolCall('chat_send_message', { room_id: room(), content: 'fast path retry', client_message_id: 'fast-path-1' }), bearer(env.token));
  });

  it.each(CASES)('%s', async (_label, body) => {
    const request = body();
    expect(hotRequest(asRequest(HEADERS), request)).toBeDefined();
    const fast = await postRpc(env.server.mcpUrl, request, bearer(env.token));
    const sdk = await postRpc(env.server.mcpUrl, withEmptyMeta(request), bearer(env.token));
    expect({ status: fast.status, type: fast.headers.get('content-type') }).toEqual({ status: sdk.status, type: sdk.headers.get('content-type') });
    expect(JSON.parse(fast.text)).toEqual(JSON.parse(sdk.text));
    expect(fast.status).toBe(200);
  });

  it('writes a send once on the fast path', async () => {
    const before = await env.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM chat_messages WHERE user_id = $1 AND content = 'fast path once'`, [AGENT]);
    const r = await postRpc(env.server.mcpUrl, toolCall('chat_send_message', { room_id: room(), content: 'fast path once' }), bearer(env.token));
    const after = await env.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM chat_messages WHERE user_id = $1 AND content = 'fast path once'`, [AGENT]);
    expect(JSON.parse(r.text).result.structuredContent.message.content).toBe('fast path once');
    expect(after.rows[0].n - before.rows[0].n).toBe(1);
  });
});
