import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOUDFLARE_IPV4_RANGES, CLOUDFLARE_IPV6_RANGES } from '../../../chat-domain/client-ip';
import { CLOUDFLARE_CLIENT_IP_CONF_PATH, cloudflareClientIpConf } from '../../../lib/chat-synapse/edge-client-ip-conf';
import { CLIENT_IP_CASES } from '../../support/client-ip-cases';
import { findNginx, RunningNginx, startNginx } from '../../support/nginx';

/** The edge proxy image's own files (docker/synapse-edge/Dockerfile COPYs them). */
const REPO = join(__dirname, '../../..');
const DIR = join(REPO, 'docker/synapse-edge');
const SCRIPT = join(DIR, 'select-client-ip.sh');

function selectClientIp(provider: string | undefined, target: string) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', SYNAPSE_EDGE_VARIANTS: DIR, SYNAPSE_EDGE_CLIENT_IP: target };
  if (provider !== undefined) env.SYNAPSE_EDGE_PROVIDER = provider;
  return spawnSync('sh', [SCRIPT], { env, encoding: 'utf8' });
}

describe('docker/synapse-edge select-client-ip.sh', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'synapse-edge-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['cloudflare', 'none'])('writes the %s variant', (provider) => {
    const target = join(dir, 'client-ip.conf');
    expect(selectClientIp(provider, target).status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe(readFileSync(join(DIR, `client-ip.${provider}.conf`), 'utf8'));
  });

  it.each([[undefined], [''], ['Cloudflare'], ['akamai'], ['none;evil']])('refuses %p with a message naming the setting, and writes nothing', (provider) => {
    const target = join(dir, 'client-ip.conf');
    const result = selectClientIp(provider, target);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SYNAPSE_EDGE_PROVIDER must be cloudflare or none \(config edge\.provider\)/);
    expect(existsSync(target)).toBe(false);
  });
});

describe('docker/synapse-edge client-ip.cloudflare.conf', () => {
  it("is generated from chat-domain's list of Cloudflare's ranges (npm run edge:conf)", () => {
    expect(readFileSync(join(REPO, CLOUDFLARE_CLIENT_IP_CONF_PATH), 'utf8')).toBe(cloudflareClientIpConf());
    const geo = /geo \$remote_addr \$synapse_edge_from_cloudflare \{([^}]*)\}/.exec(cloudflareClientIpConf())![1];
    expect([...geo.matchAll(/^\s*(\S+) 1;$/gm)].map((m) => m[1])).toEqual([...CLOUDFLARE_IPV4_RANGES, ...CLOUDFLARE_IPV6_RANGES]);
    expect(geo).toMatch(/^\s*default 0;$/m);
  });
});

/** What the fake Synapse behind the proxy received. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const nginx = findNginx();
if (!nginx) process.stderr.write('SKIPPED test/docker/synapse-edge/edge.test.ts (nginx part): no nginx binary here (apt-get install nginx, as .ci/run does)\n');
const suite = nginx ? describe : describe.skip;

suite.each(['none', 'cloudflare'])('docker/synapse-edge/nginx.conf served by nginx, edge.provider %s', (provider) => {
  let upstream: Server;
  let seen: Seen[] = [];
  let edge: RunningNginx;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    edge = await startNginx(nginx!, join(DIR, 'nginx.conf'), (dir, port) => {
      const written = selectClientIp(provider, join(dir, 'client-ip.conf'));
      if (written.status !== 0) throw new Error(written.stderr);
      return [
        // first: the test folder itself lives under /tmp
        { from: '/tmp/', to: `${dir}/run/`, count: 6 },
        { from: 'listen 8008;', to: `listen 127.0.0.1:${port};` },
        { from: 'server 127.0.0.1:8009;', to: `server 127.0.0.1:${upstreamPort};` },
        { from: 'include /etc/nginx/edge/client-ip.conf;', to: `include ${dir}/client-ip.conf;` },
        // The test's "ALB" connects from 127.0.0.1 where the real one has a private VPC address;
        // 127.0.0.2 (also loopback) plays a peer that is not the ALB.
        { from: 'set_real_ip_from 10.0.0.0/8;', to: 'set_real_ip_from 127.0.0.1;\n    set_real_ip_from 10.0.0.0/8;' },
      ];
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  /** One request to the edge, from `from` (127.0.0.1 = the ALB); returns what Synapse received. */
  const send = (headers: Record<string, string>, opts: { from?: string; path?: string; method?: string; body?: string } = {}) =>
    new Promise<{ status: number; text: string; upstream?: Seen }>((resolve, reject) => {
      seen = [];
      const req = request(
        { host: '127.0.0.1', port: edge.port, localAddress: opts.from ?? '127.0.0.1', path: opts.path ?? '/_matrix/client/v3/login', method: opts.method ?? 'GET', headers },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, upstream: seen[0] }));
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  const clientIp = async (headers: Record<string, string>, from?: string) => (await send(headers, { from })).upstream?.headers['x-forwarded-for'];

  // The same cases chat-domain/client-ip.ts answers for the MCP server (test/chat-domain/client-ip.test.ts).
  it.each(CLIENT_IP_CASES)('gives Synapse $name', async (c) => {
    const from = c.from === 'alb' ? '127.0.0.1' : '127.0.0.2';
    const headers: Record<string, string> = {};
    if (c.xForwardedFor !== undefined) headers['x-forwarded-for'] = c.xForwardedFor;
    if (c.cfConnectingIp !== undefined) headers['cf-connecting-ip'] = c.cfConnectingIp;
    const expected = c[provider as 'none' | 'cloudflare'];
    expect(await clientIp(headers, from)).toBe(expected === 'alb' || expected === 'peer' ? from : expected);
  });

  it('passes https from the ALB, calls it http otherwise, and keeps the Host with its port', async () => {
    expect((await send({ 'x-forwarded-proto': 'https', host: 'chat.example.com' })).upstream?.headers).toMatchObject({ 'x-forwarded-proto': 'https', host: 'chat.example.com' });
    expect((await send({ host: 'homeserver.synapse.internal:8008' })).upstream?.headers).toMatchObject({ 'x-forwarded-proto': 'http', host: 'homeserver.synapse.internal:8008' });
    expect((await send({ 'x-forwarded-proto': 'gopher' })).upstream?.headers['x-forwarded-proto']).toBe('http');
  });

  it('sets its own X-Request-Id (a client-sent one is replaced)', async () => {
    const a = (await send({ 'x-request-id': 'chosen-by-client' })).upstream?.headers['x-request-id'];
    const b = (await send({})).upstream?.headers['x-request-id'];
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  it('forwards method, path, query and body unchanged', async () => {
    const body = JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'x' });
    const r = await send({ 'content-type': 'application/json', 'content-length': String(body.length) }, { method: 'POST', path: '/_matrix/client/v3/login?x=1', body });
    expect(r.status).toBe(200);
    expect(r.upstream).toMatchObject({ method: 'POST', url: '/_matrix/client/v3/login?x=1', body });
  });

  it("refuses Synapse's metrics path, in any spelling, without asking Synapse", async () => {
    for (const path of [
      '/_synapse/metrics',
      '/_synapse/metrics?name[]=x',
      '/_synapse/METRICS',
      '//_synapse/metrics',
      '/_synapse/metrics/../metrics',
      '/_matrix/../_synapse/metrics',
      '/_synapse/%6detrics',
    ]) {
      const r = await send({}, { path });
      expect({ path, status: r.status, proxied: r.upstream !== undefined }).toEqual({ path, status: 404, proxied: false });
    }
    expect((await send({}, { path: '/_synapse/client/rendezvous' })).upstream?.url).toBe('/_synapse/client/rendezvous');
  });

  it('answers its own health check without Synapse', async () => {
    const r = await send({}, { path: '/synapse-edge/health' });
    expect({ status: r.status, text: r.text, proxied: r.upstream !== undefined }).toEqual({ status: 200, text: 'ok\n', proxied: false });
  });
});
