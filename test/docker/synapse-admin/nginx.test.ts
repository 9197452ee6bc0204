import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findNginx, RunningNginx, startNginx } from '../../support/nginx';

/** The Admin UI image's own files (docker/synapse-admin/Dockerfile COPYs them). */
const DIR = join(__dirname, '../../../docker/synapse-admin');
const HOMESERVER = 'https://chat-testing.thephenom.app';
/** What the stock synapse-admin build's index.html looks like where it matters: its module script in <head>. */
const STOCK_INDEX =
  '<!DOCTYPE html><html lang="en"><head><title>Synapse-Admin</title><script type="module" crossorigin src="./assets/index-Ab12.js"></script></head><body><div id="root"></div></body></html>';

const nginx = findNginx();
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' };

// Skipped, saying why, where no nginx is installed; .ci/run installs Debian's nginx so CI runs it.
if (!nginx) process.stderr.write('SKIPPED test/docker/synapse-admin/nginx.test.ts: no nginx binary here (apt-get install nginx, as .ci/run does)\n');
const suite = nginx ? describe : describe.skip;
suite(`docker/synapse-admin/nginx.conf served by nginx${nginx ? '' : ' (SKIPPED: no nginx binary here; apt-get install nginx, as .ci/run does)'}`, () => {
  let server: RunningNginx;

  beforeAll(async () => {
    server = await startNginx(nginx!, join(DIR, 'nginx.conf'), (dir, port) => {
      // The web root as the Dockerfile lays it out: the app under chat-admin/, our guard beside it.
      const app = join(dir, 'www', 'chat-admin');
      mkdirSync(join(app, 'assets'), { recursive: true, mode: 0o755 });
      writeFileSync(join(app, 'index.html'), STOCK_INDEX, { mode: 0o644 });
      writeFileSync(join(app, 'assets', 'index-Ab12.js'), 'console.log("app");\n', { mode: 0o644 });
      copyFileSync(join(DIR, 'phenom-admin-guard.js'), join(app, 'phenom-admin-guard.js'));
      // config.json exactly as the container writes it at start.
      const written = spawnSync('sh', [join(DIR, 'write-config.sh')], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYNAPSE_ADMIN_HOMESERVER_URL: HOMESERVER, SYNAPSE_ADMIN_CONFIG_PATH: join(app, 'config.json') },
        encoding: 'utf8',
      });
      if (written.status !== 0) throw new Error(written.stderr);
      return [
        // pid and the five temp paths (first: the test folder itself lives under /tmp)
        { from: '/tmp/', to: `${dir}/run/`, count: 6 },
        { from: 'listen 80;', to: `listen 127.0.0.1:${port};` },
        { from: 'root /srv/www;', to: `root ${dir}/www;` },
      ];
    });
  });
  afterAll(() => server?.stop());

  const get = (path: string) => fetch(`${server.url}${path}`, { redirect: 'manual' });
  const expectSecurityHeaders = (res: Response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(`${name}: ${res.headers.get(name)}`).toBe(`${name}: ${value}`);
  };

  it('redirects /chat-admin to /chat-admin/ (the ALB forwards both), keeping scheme and host', async () => {
    const res = await get('/chat-admin');
    expect(res.status).toBe(301);
    // relative (absolute_redirect off): the browser stays on https://<domain> behind the ALB
    expect(res.headers.get('location')).toBe('/chat-admin/');
    expectSecurityHeaders(res);
  });

  it('serves config.json at /chat-admin/config.json as written at start, uncached, with the security headers', async () => {
    const res = await get('/chat-admin/config.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(res);
    expect(await res.json()).toEqual({ restrictBaseUrl: HOMESERVER });
  });

  it.each(['/chat-admin/', '/chat-admin/index.html'])('serves the app page at %s with the guard script loaded before the app runs', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expectSecurityHeaders(res);
    const html = await res.text();
    // A classic script in <head> runs while the page parses; the app's module script runs after parsing.
    expect(html).toBe(STOCK_INDEX.replace('</head>', '<script src="./phenom-admin-guard.js"></script></head>'));
  });

  it('serves the app assets and the guard script with the security headers', async () => {
    for (const [path, type] of [
      ['/chat-admin/assets/index-Ab12.js', 'application/javascript'],
      ['/chat-admin/phenom-admin-guard.js', 'application/javascript'],
    ]) {
      const res = await get(path);
      expect(`${path} ${res.status} ${res.headers.get('content-type')}`).toBe(`${path} 200 ${type}`);
      expectSecurityHeaders(res);
    }
    expect(await (await get('/chat-admin/phenom-admin-guard.js')).text()).toBe(readFileSync(join(DIR, 'phenom-admin-guard.js'), 'utf8'));
  });

  it('answers the health check at / with 200', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
    expectSecurityHeaders(res);
  });

  it.each(['/elsewhere', '/chat-adminx', '/chat-admin/missing.js', '/config.json'])('answers %s with 404', async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expectSecurityHeaders(res);
  });
});
