import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../scripts/synapse-bootstrap';
import { MatrixHomeserver } from '../support/matrix-homeserver';

const SECRET = 'cli-shared-secret';

describe('npm run synapse:bootstrap', () => {
  let hs: MatrixHomeserver;
  let dir: string;
  let out: string[];
  let err: string[];

  beforeAll(async () => {
    hs = await MatrixHomeserver.start({ serverName: 'cli.test', registrationSharedSecret: SECRET });
    dir = mkdtempSync(join(tmpdir(), 'synapse-bootstrap-cli-'));
  });
  afterAll(async () => {
    await hs.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
    jest.spyOn(console, 'error').mockImplementation((m: string) => void err.push(m));
  });
  afterEach(() => jest.restoreAllMocks());

  it('runs as a real process: registers the bot and creates the rooms, keeping password and token in a 0600 state file', async () => {
    const stateFile = join(dir, 'state.json');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/synapse-bootstrap.ts', '--url', hs.url, '--shared-secret', SECRET, '--state-file', stateFile], {
      cwd: join(__dirname, '../..'),
      timeout: 30_000,
    });
    expect(stdout).toMatch(/bot @phenom-bot:cli.test \(registered\)/);
    expect(stdout).toMatch(/created {2}#internal:cli.test !/);
    expect(stdout).toMatch(/created {2}#community:cli.test !/);
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.botPassword.length).toBeGreaterThanOrEqual(16);
    expect(state.credentials.userId).toBe('@phenom-bot:cli.test');
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  });

  it('a second run with the same state file changes nothing', async () => {
    const before = hs.writes().length;
    expect(await main(['--url', hs.url, '--shared-secret', SECRET, '--state-file', join(dir, 'state.json')])).toBe(0);
    expect(out[0]).toMatch(/\(stored\)/);
    expect(out.slice(1).every((l) => l.startsWith('ok '))).toBe(true);
    expect(hs.writes().length).toBe(before);
  });

  it('a wrong shared secret exits 1 with a clear message', async () => {
    expect(await main(['--url', hs.url, '--shared-secret', 'wrong', '--state-file', join(dir, 'other.json'), '--bot-localpart', 'other-bot'])).toBe(1);
    expect(err.join('\n')).toMatch(/synapse:bootstrap failed on http:\/\/127.0.0.1:\d+: .*rejected the registration shared secret/);
  });

  it('missing or malformed arguments exit 2 with the usage', async () => {
    expect(await main([], {})).toBe(2);
    expect(err[0]).toMatch(/--url and --shared-secret are required/);
    expect(await main(['--url', 'localhost:8008', '--shared-secret', 's'], {})).toBe(2);
    expect(await main(['--nope'], {})).toBe(2);
  });
});
