import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderHomeserverYaml } from '../../../lib/chat-synapse/homeserver-config';

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
    expect(Object.keys(childEnv).filter((k) => k.startsWith('SYNAPSE_') && k !== 'SYNAPSE_CONFIG_PATH')).toEqual([]);
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
});
