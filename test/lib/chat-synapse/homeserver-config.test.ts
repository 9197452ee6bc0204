import { parse } from 'yaml';
import {
  buildHomeserverConfig,
  HOMESERVER_PLAIN_ENV,
  HOMESERVER_SECRET_ENV,
  HomeserverConfigInput,
  MOBILE_SSO_CALLBACK,
  placeholdersIn,
  renderHomeserverYaml,
} from '../../../lib/chat-synapse/homeserver-config';

const input: HomeserverConfigInput = {
  serverName: 'thephenom.app',
  publicBaseUrl: 'https://chat.thephenom.app',
  awsRegion: 'us-east-1',
  historyRetentionDays: 90,
};

/** Walks a parsed YAML document and yields [dotted.path, value] for every scalar. */
function* scalars(node: unknown, path = ''): Generator<[string, unknown]> {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* scalars(v, `${path}[${i}]`);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) yield* scalars(v, path ? `${path}.${k}` : k);
  } else {
    yield [path, node];
  }
}

describe('homeserver config builder', () => {
  const yaml = renderHomeserverYaml(input);
  const parsed = parse(yaml);

  it('round-trips through YAML to exactly the typed config', () => {
    expect(parsed).toEqual(JSON.parse(JSON.stringify(buildHomeserverConfig(input))));
  });

  it('sets server_name and public_baseurl from the config', () => {
    expect(parsed.server_name).toBe('thephenom.app');
    expect(parsed.public_baseurl).toBe('https://chat.thephenom.app/');
    expect(parsed.serve_server_wellknown).toBe(true);
  });

  it('listens on the loopback 8009 over plain http for the edge proxy alone, which writes X-Forwarded-For and X-Request-Id, and on the loopback 9000 for metrics', () => {
    expect(parsed.listeners).toEqual([
      {
        port: 8009,
        type: 'http',
        tls: false,
        bind_addresses: ['127.0.0.1'],
        x_forwarded: true,
        request_id_header: 'X-Request-Id',
        resources: [{ names: ['client', 'federation'], compress: false }],
      },
      { port: 9000, type: 'metrics', bind_addresses: ['127.0.0.1'] },
    ]);
  });

  it('turns metrics on, served by their own listener on the loopback 9000 and by no resource of the http listener', () => {
    expect(parsed.enable_metrics).toBe(true);
    const metrics = parsed.listeners.filter((l: { type: string }) => l.type === 'metrics');
    expect(metrics).toEqual([{ port: 9000, type: 'metrics', bind_addresses: ['127.0.0.1'] }]);
    const resources = parsed.listeners.flatMap((l: { resources?: { names: string[] }[] }) => (l.resources ?? []).flatMap((r) => r.names));
    expect(resources).not.toContain('metrics');
  });

  it('uses psycopg2 on the synapse database with TLS verified, as the role its credentials secret names', () => {
    expect(parsed.database.name).toBe('psycopg2');
    expect(parsed.database.args).toMatchObject({
      user: '${SYNAPSE_DB_USER}',
      dbname: 'synapse',
      sslmode: 'verify-full',
      sslrootcert: '/synapse/rds-global-bundle.pem',
      host: '${SYNAPSE_DB_HOST}',
      port: '${SYNAPSE_DB_PORT}',
      password: '${SYNAPSE_DB_PASSWORD}',
    });
  });

  it('configures Cognito OIDC with a lower-cased localpart, display name and e-mail', () => {
    const [oidc] = parsed.oidc_providers;
    expect(oidc).toMatchObject({
      idp_id: 'cognito',
      issuer: '${SYNAPSE_OIDC_ISSUER}',
      client_id: '${SYNAPSE_OIDC_CLIENT_ID}',
      client_secret: '${SYNAPSE_OIDC_CLIENT_SECRET}',
      scopes: ['openid', 'email', 'profile'],
    });
    const mapping = oidc.user_mapping_provider.config;
    expect(mapping.localpart_template).toMatch(/\|\s*lower\s*}}$/);
    expect(mapping.display_name_template).toContain('user.');
    expect(mapping.email_template).toBe('{{ user.email }}');
    expect(parsed.sso.client_whitelist).toEqual([MOBILE_SSO_CALLBACK]);
  });

  it('disables registration, keeps secrets as placeholders and sets the seed rate limit', () => {
    expect(parsed.enable_registration).toBe(false);
    expect(parsed.registration_shared_secret).toBe('${SYNAPSE_REGISTRATION_SHARED_SECRET}');
    expect(parsed.macaroon_secret_key).toBe('${SYNAPSE_MACAROON_SECRET_KEY}');
    expect(parsed.form_secret).toBe('${SYNAPSE_FORM_SECRET}');
    expect(parsed.signing_key_path).toBe('/synapse/signing.key');
    expect(parsed.rc_message).toEqual({ per_second: 10, burst_count: 30 });
  });

  it('stores media in S3 through the storage provider and turns URL previews off', () => {
    expect(parsed.media_storage_providers).toEqual([
      expect.objectContaining({
        module: 's3_storage_provider.S3StorageProviderBackend',
        store_synchronous: true,
        config: { bucket: '${SYNAPSE_MEDIA_BUCKET}', region_name: 'us-east-1' },
      }),
    ]);
    expect(parsed.url_preview_enabled).toBe(false);
  });

  it('enables retention with purge jobs bounded by the configured history retention', () => {
    expect(parsed.retention).toMatchObject({
      enabled: true,
      default_policy: { max_lifetime: '90d' },
      allowed_lifetime_max: '90d',
      purge_jobs: [{ interval: '12h' }],
    });
    expect(parse(renderHomeserverYaml({ ...input, historyRetentionDays: 30 })).retention.default_policy.max_lifetime).toBe('30d');
  });

  it('has every key Synapse needs to start', () => {
    for (const key of [
      'server_name',
      'public_baseurl',
      'listeners',
      'database',
      'signing_key_path',
      'registration_shared_secret',
      'macaroon_secret_key',
      'form_secret',
      'media_store_path',
      'oidc_providers',
      'sso',
      'rc_message',
      'retention',
    ]) {
      expect(parsed).toHaveProperty(key);
    }
  });

  it('holds no inline secret: every secret-bearing key is exactly one placeholder', () => {
    const secretKey = /(secret|password|key)$/i;
    const offenders = [...scalars(parsed)].filter(([path, value]) => secretKey.test(path.split('.').pop()!) && !/^(signing_key_path)$/.test(path) && !/^\$\{[A-Z0-9_]+\}$/.test(String(value)));
    expect(offenders).toEqual([]);
  });

  it('refers only to the environment variables the container is given', () => {
    const known = new Set<string>([...Object.values(HOMESERVER_SECRET_ENV), ...Object.values(HOMESERVER_PLAIN_ENV)]);
    const used = new Set(placeholdersIn(yaml));
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
    // every secret except the signing key or its seed (read by the entrypoint itself) is used by the YAML
    expect([...known].filter((n) => !used.has(n))).toEqual([HOMESERVER_SECRET_ENV.signingKeySeed, HOMESERVER_SECRET_ENV.signingKey]);
  });

  it('rejects a public base URL with a path, a bad server name and a non-positive retention', () => {
    expect(() => renderHomeserverYaml({ ...input, publicBaseUrl: 'https://chat.thephenom.app/matrix' })).toThrow(/without a path/);
    expect(() => renderHomeserverYaml({ ...input, publicBaseUrl: 'http://chat.thephenom.app' })).toThrow(/https/);
    expect(() => renderHomeserverYaml({ ...input, serverName: 'Not A Name' })).toThrow(/serverName/);
    expect(() => renderHomeserverYaml({ ...input, historyRetentionDays: 0 })).toThrow(/historyRetentionDays/);
    expect(() => renderHomeserverYaml({ ...input, databaseName: 'synapse; drop' })).toThrow(/databaseName/);
  });

  it("whitelists the Admin UI's URL for SSO (a prefix: the UI returns to …/chat-admin/#/login), beside the app's deep link", () => {
    const withUi = parse(renderHomeserverYaml({ ...input, adminUiPath: '/chat-admin' }));
    expect(withUi.sso.client_whitelist).toEqual([MOBILE_SSO_CALLBACK, 'https://chat.thephenom.app/chat-admin/']);
    expect(() => renderHomeserverYaml({ ...input, adminUiPath: 'chat-admin' })).toThrow('adminUiPath must be a path such as /chat-admin, got chat-admin');
    expect(() => renderHomeserverYaml({ ...input, adminUiPath: '/chat-admin/' })).toThrow(/adminUiPath must be a path/);
  });
});
