import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The exact script the Admin UI image runs at start (COPY'd to /docker-entrypoint.d/ by docker/synapse-admin/Dockerfile). */
const SCRIPT = join(__dirname, '../../../docker/synapse-admin/write-config.sh');

function run(url: string | undefined, target: string) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', SYNAPSE_ADMIN_CONFIG_PATH: target };
  if (url !== undefined) env.SYNAPSE_ADMIN_HOMESERVER_URL = url;
  return spawnSync('sh', [SCRIPT], { env, encoding: 'utf8' });
}

describe('docker/synapse-admin write-config.sh', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synapse-admin-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('pins the UI to the deployment homeserver with restrictBaseUrl', () => {
    const target = join(dir, 'config.json');
    const result = run('https://chat-testing.thephenom.app', target);
    expect(result.status).toBe(0);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ restrictBaseUrl: 'https://chat-testing.thephenom.app' });
  });

  it.each([[undefined], [''], ['http://chat.example.com'], ['https://chat.example.com/path'], ['https://x.com","evil":"1']])('refuses %p and writes nothing', (url) => {
    const target = join(dir, 'config.json');
    const result = run(url, target);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SYNAPSE_ADMIN_HOMESERVER_URL must be an https origin/);
    expect(existsSync(target)).toBe(false);
  });
});
