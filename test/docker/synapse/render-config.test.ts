import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { hostname } from 'node:os';
import { renderHomeserverYaml } from '../../../lib/chat-synapse/homeserver-config';
import { renderWorkerYaml } from '../../../lib/chat-synapse/workers';

/** The exact file the image's ENTRYPOINT runs (docker/synapse/Dockerfile), run with the local python3 + PyYAML. */
const ENTRYPOINT = join(__dirname, '../../../docker/synapse/render-config.py');

const yaml = renderHomeserverYaml({
  serverName: 'chat-testing.thephenom.app',
  publicBaseUrl: 'https://chat-testing.thephenom.app',
  awsRegion: 'us-east-1',
  historyRetentionDays: 90,
});

function containerEnv(dir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    SYNAPSE_CONFIG_YAML: yaml,
    SYNAPSE_CONFIG_PATH: join(dir, 'homeserver.yaml'),
    SYNAPSE_REGISTRATION_SHARED_SECRET: 'reg-secret-with: yaml # specials',
    SYNAPSE_MACAROON_SECRET_KEY: 'macaroon-secret',
    SYNAPSE_FORM_SECRET: 'form-secret',
    SYNAPSE_SIGNING_KEY_SEED: 'x'.repeat(48),
    SYNAPSE_DB_USER: 'synapse',
    SYNAPSE_DB_PASSWORD: 'p@ss\'word"\n{}',
    SYNAPSE_OIDC_CLIENT_ID: 'client-id',
    SYNAPSE_OIDC_CLIENT_SECRET: 'client-secret',
    SYNAPSE_DB_HOST: 'db.example.internal',
    SYNAPSE_DB_PORT: '5432',
    SYNAPSE_MEDIA_BUCKET: 'media-bucket',
    SYNAPSE_OIDC_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc',
  };
}

/** Runs the entrypoint; the command it execs prints the environment it was given as JSON. */
function runEntrypoint(env: Record<string, string>) {
  return spawnSync('python3', [ENTRYPOINT, 'python3', '-c', 'import json, os; print(json.dumps(dict(os.environ)))'], {
    env,
    encoding: 'utf8',
    timeout: 10_000,
  });
}

describe('docker/synapse render-config.py (the image entrypoint)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synapse-entrypoint-'));
    // the signing key path in the YAML is /synapse/signing.key; point it into the temp dir
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function withKeyInTempDir(env: Record<string, string>): Record<string, string> {
    return { ...env, SYNAPSE_CONFIG_YAML: env.SYNAPSE_CONFIG_YAML.replace('/synapse/signing.key', join(dir, 'signing.key')) };
  }

  it('writes the config with every placeholder filled, YAML-safely, and execs the command', () => {
    const env = withKeyInTempDir(containerEnv(dir));
    const result = runEntrypoint(env);
    expect(result.stderr).toContain('render-config: wrote');
    expect(result.status).toBe(0);

    const text = readFileSync(join(dir, 'homeserver.yaml'), 'utf8');
    expect(text).not.toMatch(/\$\{[A-Z0-9_]+\}/);
    const config = parse(text);
    expect(config.registration_shared_secret).toBe('reg-secret-with: yaml # specials');
    expect(config.database.args.password).toBe('p@ss\'word"\n{}');
    expect(config.database.args.host).toBe('db.example.internal');
    expect(config.oidc_providers[0].issuer).toBe('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC');
    expect(config.media_storage_providers[0].config.bucket).toBe('media-bucket');
    expect(config.rc_message).toEqual({ per_second: 10, burst_count: 30 });
    expect(statSync(join(dir, 'homeserver.yaml')).mode & 0o777).toBe(0o600);

    // Synapse's process does not inherit the config or the secrets, but keeps everything else
    const childEnv = JSON.parse(result.stdout) as Record<string, string>;
    expect(Object.keys(childEnv).filter((k) => k.startsWith('SYNAPSE_') && k !== 'SYNAPSE_CONFIG_PATH')).toEqual(['SYNAPSE_WORKER']);
    // no worker_app: the stock start.py runs the main process
    expect(childEnv.SYNAPSE_WORKER).toBe('synapse.app.homeserver');
    expect(childEnv.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toBe('/v2/credentials/abc');
  });

  it('derives a stable ed25519 signing key file from the seed', () => {
    const env = withKeyInTempDir(containerEnv(dir));
    expect(runEntrypoint(env).status).toBe(0);
    const first = readFileSync(join(dir, 'signing.key'), 'utf8');
    const [alg, keyId, seed] = first.trim().split(' ');
    expect(alg).toBe('ed25519');
    expect(keyId).toMatch(/^a_[0-9a-f]{4}$/);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('phenom-synapse-signing-key\0'), Buffer.from('x'.repeat(48))]))
      .digest();
    expect(Buffer.from(seed, 'base64')).toEqual(expected);
    expect(statSync(join(dir, 'signing.key')).mode & 0o777).toBe(0o600);

    expect(runEntrypoint(env).status).toBe(0);
    expect(readFileSync(join(dir, 'signing.key'), 'utf8')).toBe(first);
  });

  it('fails clearly, naming (not printing) the missing secrets, and writes nothing', () => {
    const env = withKeyInTempDir(containerEnv(dir));
    delete env.SYNAPSE_DB_PASSWORD;
    env.SYNAPSE_FORM_SECRET = '';
    const result = runEntrypoint(env);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unset or empty environment variables: SYNAPSE_DB_PASSWORD, SYNAPSE_FORM_SECRET');
    expect(result.stderr).not.toContain('reg-secret');
    expect(existsSync(join(dir, 'homeserver.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'signing.key'))).toBe(false);
  });

  it('rejects a missing or malformed config and a short signing-key seed', () => {
    const base = withKeyInTempDir(containerEnv(dir));
    expect(runEntrypoint({ ...base, SYNAPSE_CONFIG_YAML: '' }).stderr).toMatch(/SYNAPSE_CONFIG_YAML is not set/);
    expect(runEntrypoint({ ...base, SYNAPSE_CONFIG_YAML: 'a: [unclosed' }).stderr).toMatch(/not valid YAML/);
    expect(runEntrypoint({ ...base, SYNAPSE_CONFIG_YAML: '- a list' }).stderr).toMatch(/must be a YAML mapping/);
    const short = runEntrypoint({ ...base, SYNAPSE_SIGNING_KEY_SEED: 'short' });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/SYNAPSE_SIGNING_KEY_SEED must be set to at least 32/);
    expect(existsSync(join(dir, 'homeserver.yaml'))).toBe(false);
  });

  describe('with an imported signing key (synapse.signingKeySecretArn)', () => {
    // An existing server's key file line, as Synapse writes it: unpadded base64 of a 32-byte seed.
    const seed = randomBytes(32);
    const keyLine = `ed25519 a_Xy9Z ${seed.toString('base64').replace(/=+$/, '')}`;
    const importing = (key: string): Record<string, string> => {
      const env = withKeyInTempDir(containerEnv(dir));
      delete env.SYNAPSE_SIGNING_KEY_SEED;
      return { ...env, SYNAPSE_SIGNING_KEY: key };
    };

    it("writes the key file exactly as imported and keeps it from Synapse's environment", () => {
      const result = runEntrypoint(importing(`${keyLine}\n`));
      expect(result.status).toBe(0);
      expect(readFileSync(join(dir, 'signing.key'), 'utf8')).toBe(`${keyLine}\n`);
      expect(statSync(join(dir, 'signing.key')).mode & 0o777).toBe(0o600);
      const childEnv = JSON.parse(result.stdout) as Record<string, string>;
      expect(Object.keys(childEnv).filter((k) => k.startsWith('SYNAPSE_SIGNING'))).toEqual([]);
    });

    it('accepts the value with surrounding whitespace, as a pasted secret often has', () => {
      expect(runEntrypoint(importing(`  ${keyLine}  \r\n\n`)).status).toBe(0);
      expect(readFileSync(join(dir, 'signing.key'), 'utf8')).toBe(`${keyLine}\n`);
    });

    it.each([
      ['another algorithm', keyLine.replace('ed25519', 'ed448'), /SYNAPSE_SIGNING_KEY is not a Synapse signing key/],
      ['a padded seed', `${keyLine}=`, /SYNAPSE_SIGNING_KEY is not a Synapse signing key/],
      ['a key id with a colon', keyLine.replace('a_Xy9Z', 'ed25519:a_Xy9Z'), /SYNAPSE_SIGNING_KEY is not a Synapse signing key/],
      ['a short seed', `ed25519 a_Xy9Z ${seed.subarray(0, 31).toString('base64').replace(/=+$/, '')}`, /SYNAPSE_SIGNING_KEY is not a Synapse signing key/],
      ['two keys', `${keyLine}\n${keyLine.replace('a_Xy9Z', 'a_old1')}`, /SYNAPSE_SIGNING_KEY must hold exactly one key.*it holds 2 lines/],
      ['just the seed', seed.toString('base64').replace(/=+$/, ''), /SYNAPSE_SIGNING_KEY is not a Synapse signing key/],
    ])('rejects %s with exit 2, naming the variable and never printing the key, and writes nothing', (_, value, message) => {
      const result = runEntrypoint(importing(value));
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(seed.toString('base64').slice(0, 20));
      expect(existsSync(join(dir, 'signing.key'))).toBe(false);
      expect(existsSync(join(dir, 'homeserver.yaml'))).toBe(false);
    });

    it('refuses both an imported key and a seed: one server, one identity', () => {
      const env = { ...importing(keyLine), SYNAPSE_SIGNING_KEY_SEED: 'x'.repeat(48) };
      const result = runEntrypoint(env);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('set only one of SYNAPSE_SIGNING_KEY (an imported key) and SYNAPSE_SIGNING_KEY_SEED (a derived key)');
      expect(existsSync(join(dir, 'signing.key'))).toBe(false);
    });
  });
  describe('a worker (lib/chat-synapse/workers)', () => {
    const homeserver = {
      serverName: 'chat-testing.thephenom.app',
      publicBaseUrl: 'https://chat-testing.thephenom.app',
      awsRegion: 'us-east-1',
      historyRetentionDays: 90,
    };
    const layout = { counts: { generic: 2, media: 1 }, discoveryDomain: 'synapse.phenom-dev.internal', synapseVersion: '1.142.0' };
    const workerEnv = (service: string, extra: Record<string, string> = {}) =>
      withKeyInTempDir({
        ...containerEnv(dir),
        SYNAPSE_CONFIG_YAML: renderWorkerYaml(homeserver, layout, service),
        SYNAPSE_REDIS_HOST: 'redis.example.internal',
        SYNAPSE_REDIS_PASSWORD: 'redis-token',
        SYNAPSE_REPLICATION_SECRET: 'replication-secret',
        ...extra,
      });
    const written = () => parse(readFileSync(join(dir, 'homeserver.yaml'), 'utf8'));

    it("starts the config's worker_app, named after this task's host name", () => {
      const result = runEntrypoint(workerEnv('generic'));
      expect(result.stderr).toContain('for synapse.app.generic_worker');
      expect(result.status).toBe(0);
      const label = hostname()
        .split('.')[0]
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^-+|-+$/g, '');
      expect(written().worker_name).toBe(`generic-${label}`);
      expect(written().redis).toMatchObject({ host: 'redis.example.internal', password: 'redis-token', port: 6379, use_tls: true });
      const childEnv = JSON.parse(result.stdout) as Record<string, string>;
      expect(childEnv.SYNAPSE_WORKER).toBe('synapse.app.generic_worker');
      expect(Object.keys(childEnv).filter((k) => k.startsWith('SYNAPSE_'))).toEqual(['SYNAPSE_CONFIG_PATH', 'SYNAPSE_WORKER']);
    });

    it('takes the instance from SYNAPSE_WORKER_INSTANCE when the task sets it', () => {
      expect(runEntrypoint(workerEnv('generic', { SYNAPSE_WORKER_INSTANCE: 'task-7f3a' })).status).toBe(0);
      expect(written().worker_name).toBe('generic-task-7f3a');
    });

    it('starts the media repository for the media worker, and agrees with a SYNAPSE_WORKER that says the same', () => {
      const result = runEntrypoint(workerEnv('media-1', { SYNAPSE_WORKER: 'synapse.app.media_repository' }));
      expect(result.status).toBe(0);
      expect(written().worker_name).toBe('media-1');
      expect((JSON.parse(result.stdout) as Record<string, string>).SYNAPSE_WORKER).toBe('synapse.app.media_repository');
    });

    it.each<[string, () => Record<string, string>, string]>([
      [
        'a SYNAPSE_WORKER the config contradicts',
        () => workerEnv('generic', { SYNAPSE_WORKER: 'synapse.app.homeserver' }),
        'SYNAPSE_WORKER is synapse.app.homeserver but the homeserver config is for synapse.app.generic_worker',
      ],
      [
        'a main-process config started as a worker',
        () => withKeyInTempDir({ ...containerEnv(dir), SYNAPSE_WORKER: 'synapse.app.generic_worker' }),
        'SYNAPSE_WORKER is synapse.app.generic_worker but the homeserver config is for synapse.app.homeserver',
      ],
      ['an instance that makes an invalid worker_name', () => workerEnv('generic', { SYNAPSE_WORKER_INSTANCE: 'bad name/secret-ish' }), "worker_name must be 1-100 letters, digits, '_', '.' or '-'"],
      ['a missing Redis auth token', () => workerEnv('generic', { SYNAPSE_REDIS_PASSWORD: '' }), 'unset or empty environment variables: SYNAPSE_REDIS_PASSWORD'],
      [
        'an unknown worker_app',
        () => {
          const e = workerEnv('generic');
          return { ...e, SYNAPSE_CONFIG_YAML: e.SYNAPSE_CONFIG_YAML.replace('synapse.app.generic_worker', 'synapse.app.pusher') };
        },
        'worker_app must be one of',
      ],
    ])('refuses %s with exit 2 and writes nothing', (_, env, message) => {
      const result = runEntrypoint(env());
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain('secret-ish');
      expect(existsSync(join(dir, 'homeserver.yaml'))).toBe(false);
      expect(existsSync(join(dir, 'signing.key'))).toBe(false);
    });

    it('refuses worker keys without a worker_app', () => {
      const e = workerEnv('generic');
      const result = runEntrypoint({ ...e, SYNAPSE_CONFIG_YAML: e.SYNAPSE_CONFIG_YAML.replace(/^worker_app: .*$/m, '') });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('the homeserver config has worker keys but no worker_app');
      expect(existsSync(join(dir, 'homeserver.yaml'))).toBe(false);
    });
  });
});
