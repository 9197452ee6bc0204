/**
 * npm run bench:mcp
 *
 * The MCP server (the bundled dist/server.js, as a child process, with the task's NODE_OPTIONS) on
 * the postgres backend with 100,000 messages, driven by 1, 16 and 64 concurrent MCP clients, each
 * making the same fixed number of calls (alternating chat_get_messages and chat_send_message).
 * Beside it, on the same database and with the same calls: the SDK-idiomatic server
 * (bench/sdk-server.ts: McpServer + createMcpHandler + requireBearerAuth); the HTTP floor
 * (bench/http-floor-server.ts: bare node:http around the same backend calls and result bytes, the
 * ceiling of any Node server here, printed beside each goal); and the two queries issued directly
 * through pg. Every path is warmed (JIT, pools, caches) before it is measured, and
 * each level runs in three rounds with the paths' order rotated. For each level it prints
 * throughput, p50/p99 latency, errors (must be 0; the first one is printed), the server's CPU per
 * call and the bench client's own (it shares the cores); then tools/list for both servers; the
 * server's peak RSS; a check that every message sent is in the database exactly once; and which
 * of the goals were met:
 *   MCP throughput / direct pg >= 0.6 at 16 and at 64 clients; p99 at 64 clients <= 80 ms;
 *   server peak RSS (64 clients) <= 160 MiB.
 * On a shared machine throughput and p99 follow the neighbours' load (printed per level); server
 * CPU per call is the steadier signal.
 * Figures are for comparison on this machine, never a test.
 *
 * Options (env): BENCH_CALLS_PER_CLIENT (default 60), BENCH_CLIENT (raw | v1 | v2-legacy | v2-modern, default raw),
 * BENCH_BASELINE_BUNDLE (another build of the server, e.g. main's dist/server.js: it gets a row of its own,
 * interleaved with the others, so a change is measured before and after in the same machine state).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Client, Pool } from 'pg';
import { mcpServerNodeOptions } from '../../../lib/chat-mcp-server/node-options';
import { DEFAULT_TASK_SIZES } from '../../../lib/config/schema';
import { runMigrations } from '../../../lambda/migrations/runner';
import { startPostgresServer } from '../../../scripts/local-postgres/server';
import { startLocalIssuer } from '../src/auth/local-issuer';
import { PostgresBackend } from '../src/backend/postgres';
import { CHAT_TOOLS } from '../src/tools';
import { connect, type ClientKind, type ConnectedClient } from '../test/support/clients';
import { buildServerBundle, startServerProcess } from '../test/support/server-process';

const MESSAGES = 100_000;
const LEVELS = [1, 16, 64];
// Warm-up before anything is measured: enough calls for V8 to optimise the hot paths (and for
// the pg pools to open every connection), at the concentration the measured levels use.
const WARMUP_CLIENTS = 16;
const WARMUP_CALLS_PER_CLIENT = 40;
const GOALS = { ratio: 0.6, p99At64Ms: 80, rssMiB: 160 } as const;
const CALLS_PER_CLIENT = Number(process.env.BENCH_CALLS_PER_CLIENT ?? 60);
// Each level runs in rounds, the three paths' order rotated each round, so a neighbour's load that
// comes or goes during a level weighs on every path alike (this machine is shared).
const ROUNDS = 3;
const POOL_MAX = 20; // the server's PG_POOL_MAX and the direct pool's size: same database capacity
/**
 * raw (default): JSON-RPC over fetch, the way a 2025-11-25 client puts it on the wire after
 * initialize, so the numbers are the server's and not the SDK client's own CPU (the client runs on
 * the same two cores). v1 / v2-legacy / v2-modern: the official SDK clients.
 */
const CLIENT_CHOICE = process.env.BENCH_CLIENT ?? 'raw';
const SDK_KINDS: Record<string, ClientKind> = { v1: 'sdk-v1 (2025-11-25)', 'v2-legacy': 'sdk-v2 legacy (2025-11-25)', 'v2-modern': 'sdk-v2 modern (2026-07-28)' };

/**
 * The smallest correct 2025-11-25 client: initialize once, then one POST per call, on one kept-alive
 * connection of its own (as an agent holds one). node:http rather than fetch: the clients share the
 * two cores with the server, and fetch's web streams cost them about twice the CPU per call, which
 * the server then lacks (the "client CPU/call" column shows what they still take).
 */
async function connectRaw(mcpUrl: string, token: string): Promise<ConnectedClient> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
  let id = 0;
  const post = (body: string) =>
    new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
      const req = httpRequest(mcpUrl, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const rpc = async (method: string, params: unknown) => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }));
    // A 2025-11-25 client accepts JSON or an SSE stream (the SDK's stateless legacy serving streams).
    const json = res.type.startsWith('text/event-stream') ? (/^data: (.*)$/m.exec(res.text)?.[1] ?? 'null') : res.text;
    const body = JSON.parse(json) as { result?: Record<string, unknown>; error?: unknown };
    if (res.status !== 200 || body.error) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.error)}`);
    return body.result!;
  };
  await rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench-raw', version: '1' } });
  return {
    listTools: () => rpc('tools/list', {}) as never,
    callTool: (name, args) => rpc('tools/call', { name, arguments: args }) as never,
    protocolVersion: () => '2025-11-25',
    close: async () => agent.destroy(),
  };
}

const connectClient = (mcpUrl: string, token: string) => (CLIENT_CHOICE === 'raw' ? connectRaw(mcpUrl, token) : connect(SDK_KINDS[CLIENT_CHOICE] ?? SDK_KINDS.v1, mcpUrl, token));
const AGENT = 'mcp-agent';
// tools/list is right when it names exactly the server's tools, in order (a hard-coded count went
// stale when the tenth tool came, and every list call then counted as an error).
const TOOL_NAMES = CHAT_TOOLS.map((t) => t.name).join(',');
const listsAllTools = (r: { tools: { name: string }[] }) => r.tools.map((t) => t.name).join(',') === TOOL_NAMES;
const CLIENT_ID = 'bench-agent';

interface LevelResult {
  calls: number;
  errors: number;
  /** The first failure's message, printed under its row: an error count alone explains nothing. */
  firstError?: string;
  seconds: number;
  latenciesMs: number[];
  /** CPU the bench process itself (the clients) used per call, ms: it shares the cores with the server. */
  clientCpuMs: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n: number, d = 1) => n.toFixed(d).padStart(8);

/** c workers, each running `perWorker` operations; op(i) is the worker's i-th operation. */
async function drive(c: number, perWorker: number, op: (worker: number, i: number) => Promise<boolean>): Promise<LevelResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: c }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) {
        const t = performance.now();
        const ok = await op(w, i).catch((err: unknown) => {
          firstError ??= err instanceof Error ? err.message : String(err);
          return false;
        });
        latenciesMs.push(performance.now() - t);
        if (!ok) {
          errors++;
          firstError ??= 'the answer was not the expected one';
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const calls = c * perWorker;
  return { calls, errors, firstError, seconds, latenciesMs: latenciesMs.sort((a, b) => a - b), clientCpuMs: (cpu.user + cpu.system) / 1000 / calls };
}

/** CPU time (user + system) the process has used so far, in ms (Linux /proc; clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** A bench-only comparison server (sdk-server.ts, http-floor-server.ts), bundled exactly as scripts/build.mjs bundles ours. */
async function buildBenchServerBundle(entry: string): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'mcp-bench-bundle-')), entry.replace(/\.ts$/, '.js'));
  await build({
    entryPoints: [join(__dirname, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifySyntax: true,
    external: ['pg-native'],
    logLevel: 'warning',
  });
  return outfile;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const pg = await startPostgresServer();
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_mcp');
  await admin.end();
  const url = pg.url.replace(/\/postgres$/, '/bench_mcp');
  const pool = new Pool({ connectionString: url, max: POOL_MAX });
  pool.on('error', () => undefined); // idle clients cut by the final postgres stop
  const setup = await pool.connect();
  await runMigrations(setup);
  await setup.query(`INSERT INTO users (id, username, display_name) VALUES ($1, 'mcp-agent', 'MCP Agent')`, [AGENT]);
  await setup.query(`INSERT INTO users (id, username) SELECT 'user-' || g, 'user' || g FROM generate_series(1, 50) g`);
  await setup.query(`INSERT INTO chat_members (room_id, user_id, role) SELECT id, $1, 'admin' FROM chat_rooms`, [AGENT]);
  const room = (await setup.query<{ id: string }>(`SELECT id FROM chat_rooms WHERE name = 'Phenom Community'`)).rows[0].id;
  await setup.query(`INSERT INTO chat_members (room_id, user_id) SELECT $1, 'user-' || g FROM generate_series(1, 50) g`, [room]);
  // Bypass the per-row chat rules trigger for the bulk seed only (they are tested elsewhere); the
  // bench's own sends go through it.
  await setup.query('SET session_replication_role = replica');
  await setup.query(
    `INSERT INTO chat_messages (room_id, user_id, content, created_at)
     SELECT $1, 'user-' || (1 + g % 50), 'seed message ' || g, now() - (${MESSAGES} - g) * interval '1 second'
       FROM generate_series(1, ${MESSAGES}) g`,
    [room],
  );
  await setup.query('SET session_replication_role = origin');
  await setup.query('VACUUM ANALYZE chat_messages');
  setup.release();

  const issuer = await startLocalIssuer();
  const serverEnv = {
    BACKEND_TYPE: 'postgres',
    DATABASE_URL: url,
    AGENT_USER_ID: AGENT,
    PG_POOL_MAX: String(POOL_MAX),
    COGNITO_USER_POOL_ID: issuer.userPoolId,
    COGNITO_JWKS_URL: issuer.jwksUrl,
    ALLOWED_CLIENT_IDS: CLIENT_ID,
    RATE_LIMIT_PER_MINUTE: '10000000', // measuring the server, not the limiter
    RATE_LIMIT_BURST: '100000',
    LOG_LEVEL: 'info', // production logging: one access line and one tool line per call
    // The task's heap limits, for both servers: the RSS goal is about what the task runs.
    NODE_OPTIONS: mcpServerNodeOptions(DEFAULT_TASK_SIZES.mcpServer.memoryMiB),
  };
  const server = await startServerProcess(
    buildServerBundle(),
    serverEnv,
    // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the server.
    { keepOutput: false, nodeArgs: process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) },
  );
  const sdkServer = await startServerProcess(await buildBenchServerBundle('sdk-server.ts'), serverEnv, { keepOutput: false });
  const floor = await startServerProcess(await buildBenchServerBundle('http-floor-server.ts'), serverEnv, { keepOutput: false });
  const baselineBundle = process.env.BENCH_BASELINE_BUNDLE;
  const baseline = baselineBundle ? await startServerProcess(baselineBundle, serverEnv, { keepOutput: false }) : undefined;
  const token = issuer.mint({ clientId: CLIENT_ID, scopes: ['chat/read', 'chat/moderate'] });
  const directPool = new Pool({ connectionString: url, max: POOL_MAX });
  directPool.on('error', () => undefined);
  const direct = new PostgresBackend(directPool, AGENT);
  console.log(
    `setup: ${MESSAGES.toLocaleString('en')} messages, server pid ${server.proc.pid}, SDK server pid ${sdkServer.proc.pid}${baseline ? `, baseline pid ${baseline.proc.pid}` : ''}, ${CLIENT_CHOICE} clients, ${CALLS_PER_CLIENT} calls per client (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );

  const sentContents: string[] = [];
  let failed = false;
  const mcpOp = (clients: ConnectedClient[], tag: string) => async (w: number, i: number) => {
    if (i % 2 === 0) {
      const r = await clients[w].callTool('chat_get_messages', { room_id: room, limit: 50 });
      return !r.isError && (r.structuredContent?.messages as unknown[]).length === 50;
    }
    const content = `bench ${tag} w${w} i${i}`;
    const r = await clients[w].callTool('chat_send_message', { room_id: room, content });
    if (!r.isError) sentContents.push(content);
    return !r.isError;
  };
  const directOp = (tag: string) => async (w: number, i: number) => {
    if (i % 2 === 0) return (await direct.getMessages({ roomId: room, limit: 50, includeDeleted: false })).messages.length === 50;
    const content = `bench ${tag} w${w} i${i}`;
    await direct.sendMessage({ roomId: room, content, messageType: 'text' });
    sentContents.push(content);
    return true;
  };
  const connectAll = (mcpUrl: string, c: number) => Promise.all(Array.from({ length: c }, () => connectClient(mcpUrl, token)));

  // Warm every path before the first measurement.
  const warmStarted = performance.now();
  const servers = [['mcp', server] as const, ['sdk', sdkServer] as const, ['floor', floor] as const, ...(baseline ? [['base', baseline] as const] : [])];
  for (const [label, target] of servers) {
    const clients = await connectAll(target.mcpUrl, WARMUP_CLIENTS);
    await drive(WARMUP_CLIENTS, WARMUP_CALLS_PER_CLIENT, mcpOp(clients, `warm-${label}`));
    await drive(WARMUP_CLIENTS, 10, (w) => clients[w].listTools().then(listsAllTools));
    await Promise.all(clients.map((cl) => cl.close()));
  }
  await drive(WARMUP_CLIENTS, WARMUP_CALLS_PER_CLIENT, directOp('warm-direct'));
  console.log(`warm-up: ${WARMUP_CLIENTS} clients x ${WARMUP_CALLS_PER_CLIENT} calls on each path (${((performance.now() - warmStarted) / 1000).toFixed(1)} s)\n`);
  console.log('clients   path         calls  errors   calls/s   p50 ms   p99 ms   vs direct   server CPU/call   client CPU/call');

  const row = (c: number | string, label: string, r: LevelResult, ratio: string, serverCpu: string) => {
    console.log(
      `${String(c).padStart(7)}   ${label.padEnd(11)} ${String(r.calls).padStart(6)} ${String(r.errors).padStart(7)} ${fmt(r.calls / r.seconds)} ${fmt(pct(r.latenciesMs, 50), 2)} ${fmt(pct(r.latenciesMs, 99), 2)}` +
        `   ${ratio.padStart(9)}   ${serverCpu.padStart(15)}   ${`${r.clientCpuMs.toFixed(2)} ms`.padStart(15)}`,
    );
    if (r.errors > 0) {
      console.log(`          first error: ${r.firstError}`);
      failed = true;
    }
  };
  /** Runs op on c fresh clients of target, perWorker calls each; the result with the server's CPU per call. */
  const onServer = async (target: typeof server, c: number, perWorker: number, op: (clients: ConnectedClient[]) => (w: number, i: number) => Promise<boolean>): Promise<[LevelResult, number]> => {
    const clients = await connectAll(target.mcpUrl, c);
    const cpuBefore = cpuMs(target.proc.pid!);
    const r = await drive(c, perWorker, op(clients));
    const cpu = (cpuMs(target.proc.pid!) - cpuBefore) / r.calls;
    await Promise.all(clients.map((cl) => cl.close()));
    return [r, cpu];
  };
  const rate = (r: LevelResult) => r.calls / r.seconds;
  /** Rounds of one path as one result: calls, time and CPU add up, latencies pool. */
  const merge = (parts: [LevelResult, number][]): [LevelResult, number] => {
    const calls = parts.reduce((n, [r]) => n + r.calls, 0);
    const merged: LevelResult = {
      calls,
      errors: parts.reduce((n, [r]) => n + r.errors, 0),
      firstError: parts.find(([r]) => r.firstError)?.[0].firstError,
      seconds: parts.reduce((n, [r]) => n + r.seconds, 0),
      latenciesMs: parts.flatMap(([r]) => r.latenciesMs).sort((a, b) => a - b),
      clientCpuMs: parts.reduce((n, [r]) => n + r.clientCpuMs * r.calls, 0) / calls,
    };
    return [merged, parts.reduce((n, [r, cpu]) => n + cpu * r.calls, 0) / calls];
  };
  const perRound = Math.ceil(CALLS_PER_CLIENT / ROUNDS);
  const measured: Record<number, { ratio: number; p99: number; floorRatio: number; floorP99: number }> = {};
  for (const c of LEVELS) {
    const paths: ((round: number) => Promise<[LevelResult, number]>)[] = [
      (round) => onServer(server, c, perRound, (clients) => mcpOp(clients, `mcp c${c} r${round}`)),
      (round) => onServer(sdkServer, c, perRound, (clients) => mcpOp(clients, `sdk c${c} r${round}`)),
      async (round) => [await drive(c, perRound, directOp(`direct c${c} r${round}`)), NaN],
      (round) => onServer(floor, c, perRound, (clients) => mcpOp(clients, `floor c${c} r${round}`)),
      ...(baseline ? [(round: number) => onServer(baseline, c, perRound, (clients) => mcpOp(clients, `base c${c} r${round}`))] : []),
    ];
    const parts = paths.map((): [LevelResult, number][] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < paths.length; k++) {
        const p = (k + round) % paths.length;
        parts[p].push(await paths[p](round));
      }
    }
    const [[mcp, mcpCpu], [sdk, sdkCpu], [pgDirect], [flr, floorCpu], base] = parts.map(merge);
    row(c, 'MCP', mcp, (rate(mcp) / rate(pgDirect)).toFixed(2), `${mcpCpu.toFixed(2)} ms`);
    if (base) row(c, 'baseline', base[0], (rate(base[0]) / rate(pgDirect)).toFixed(2), `${base[1].toFixed(2)} ms`);
    row(c, 'SDK server', sdk, (rate(sdk) / rate(pgDirect)).toFixed(2), `${sdkCpu.toFixed(2)} ms`);
    row(c, 'HTTP floor', flr, (rate(flr) / rate(pgDirect)).toFixed(2), `${floorCpu.toFixed(2)} ms`);
    row(c, 'pg direct', pgDirect, '1.00', '(in client)');
    measured[c] = { ratio: rate(mcp) / rate(pgDirect), p99: pct(mcp.latenciesMs, 99), floorRatio: rate(flr) / rate(pgDirect), floorP99: pct(flr.latenciesMs, 99) };
    console.log(
      `          (SDK server / MCP: ${(rate(sdk) / rate(mcp)).toFixed(2)}x throughput, ${(sdkCpu / mcpCpu).toFixed(2)}x CPU per call; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
    );
  }

  // tools/list: the one call whose cost is all server (no database).
  const lists: LevelResult[] = [];
  for (const [label, target] of [['MCP', server] as const, ['SDK server', sdkServer] as const, ...(baseline ? [['baseline', baseline] as const] : [])]) {
    const [r, cpu] = await onServer(target, 16, CALLS_PER_CLIENT, (clients) => (w) => clients[w].listTools().then(listsAllTools));
    lists.push(r);
    row('16 list', label, r, '', `${cpu.toFixed(2)} ms`);
  }
  console.log(`          (SDK server / MCP on tools/list: ${(rate(lists[1]) / rate(lists[0])).toFixed(2)}x throughput; load average ${loadavg()[0].toFixed(1)})`);

  const rss = peakRssMiB(server.proc.pid!);
  console.log(
    `\nserver peak RSS: ${rss.toFixed(1)} MiB (SDK server: ${peakRssMiB(sdkServer.proc.pid!).toFixed(1)} MiB${baseline ? `, baseline: ${peakRssMiB(baseline.proc.pid!).toFixed(1)} MiB` : ''})`,
  );

  const { rows } = await pool.query<{ content: string; n: number }>(`SELECT content, count(*)::int AS n FROM chat_messages WHERE room_id = $1 AND content LIKE 'bench %' GROUP BY content`, [room]);
  const inDb = new Map(rows.map((r) => [r.content, r.n]));
  const missing = sentContents.filter((c) => !inDb.has(c)).length;
  const duplicated = rows.filter((r) => r.n !== 1).length;
  const unexpected = rows.filter((r) => !sentContents.includes(r.content)).length;
  const exactlyOnce = missing === 0 && duplicated === 0 && unexpected === 0 && rows.length === sentContents.length;
  console.log(`messages sent: ${sentContents.length}; in the database exactly once: ${exactlyOnce ? 'yes' : `NO (missing ${missing}, duplicated ${duplicated}, unexpected ${unexpected})`}`);
  if (!exactlyOnce) failed = true;

  const goal = (met: boolean, text: string) => console.log(`  ${met ? 'met    ' : 'NOT met'}  ${text}`);
  console.log('\ngoals:');
  // The floor's figure beside each goal: a goal the floor misses is out of reach of any Node server here.
  for (const c of [16, 64]) {
    goal(measured[c].ratio >= GOALS.ratio, `MCP / direct pg at ${c} clients >= ${GOALS.ratio}: ${measured[c].ratio.toFixed(2)} (HTTP floor ${measured[c].floorRatio.toFixed(2)})`);
  }
  goal(measured[64].p99 <= GOALS.p99At64Ms, `p99 at 64 clients <= ${GOALS.p99At64Ms} ms: ${measured[64].p99.toFixed(1)} ms (HTTP floor ${measured[64].floorP99.toFixed(1)} ms)`);
  goal(rss <= GOALS.rssMiB, `server peak RSS <= ${GOALS.rssMiB} MiB: ${rss.toFixed(1)} MiB`);

  await server.stop();
  await sdkServer.stop();
  await floor.stop();
  await baseline?.stop();
  await issuer.close();
  await direct.close();
  await pool.end();
  await pg.stop();
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failed) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
