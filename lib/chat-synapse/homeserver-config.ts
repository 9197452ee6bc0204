import { stringify } from 'yaml';
import { SYNAPSE_DISPLAY_NAME_TEMPLATE, SYNAPSE_EMAIL_TEMPLATE, SYNAPSE_LOCALPART_TEMPLATE, SYNAPSE_OIDC_IDP_ID } from '../../chat-domain/matrix-identity';

/**
 * The container environment the rendered homeserver.yaml refers to. The YAML
 * holds `${NAME}` placeholders for these; the image's entrypoint
 * (docker/synapse/render-config.py) fills them in at container start. So the
 * YAML itself contains no secret and no deploy-time token, and can live in a
 * plain environment variable of the task definition.
 */
export const HOMESERVER_SECRET_ENV = {
  /** Lets the admin API register users (the bootstrap registers the admin bot with it). */
  registrationSharedSecret: 'SYNAPSE_REGISTRATION_SHARED_SECRET',
  macaroonSecretKey: 'SYNAPSE_MACAROON_SECRET_KEY',
  formSecret: 'SYNAPSE_FORM_SECRET',
  /** Random text the entrypoint turns into the ed25519 signing key file (see render-config.py). */
  signingKeySeed: 'SYNAPSE_SIGNING_KEY_SEED',
  /**
   * Instead of the seed: an existing server's key file line, written as it is (synapse.signingKeySecretArn).
   * The entrypoint reads it itself; the YAML only names the file.
   */
  signingKey: 'SYNAPSE_SIGNING_KEY',
  /** The role Synapse connects as: the `username` of the database secret (generated, or an adopted server's). */
  databaseUser: 'SYNAPSE_DB_USER',
  databasePassword: 'SYNAPSE_DB_PASSWORD',
  oidcClientId: 'SYNAPSE_OIDC_CLIENT_ID',
  oidcClientSecret: 'SYNAPSE_OIDC_CLIENT_SECRET',
} as const;

/** Deploy-time values that are not secret but are only known once CloudFormation resolves them. */
export const HOMESERVER_PLAIN_ENV = {
  databaseHost: 'SYNAPSE_DB_HOST',
  databasePort: 'SYNAPSE_DB_PORT',
  mediaBucket: 'SYNAPSE_MEDIA_BUCKET',
  /** https://cognito-idp.<region>.amazonaws.com/<poolId> */
  oidcIssuer: 'SYNAPSE_OIDC_ISSUER',
} as const;

/** The variable that carries the rendered YAML into the container. */
export const SYNAPSE_CONFIG_YAML_ENV = 'SYNAPSE_CONFIG_YAML';

/** Paths inside the wrapper image (docker/synapse/Dockerfile creates /synapse, owned by the Synapse user). */
export const SYNAPSE_IMAGE_PATHS = {
  configPath: '/synapse/homeserver.yaml',
  signingKeyPath: '/synapse/signing.key',
  mediaStorePath: '/synapse/media_store',
  rdsCaBundlePath: '/synapse/rds-global-bundle.pem',
} as const;

/** Where the task answers (the edge proxy in front of Synapse, see docker/synapse-edge): ALB target, Cloud Map, health checks. */
export const SYNAPSE_LISTENER_PORT = 8008;
/**
 * Synapse's own listener, on the task's loopback only: nothing but the edge proxy in the same task can
 * reach it, so its X-Forwarded-For (the one client address the proxy writes) is the only one Synapse trusts.
 */
export const SYNAPSE_INTERNAL_PORT = 8009;
/**
 * Synapse's Prometheus listener (`type: metrics`), on the task's loopback only: the metrics sidecar
 * (docker/synapse-metrics) scrapes it, and no port mapping, edge proxy route or ALB rule leads to it.
 */
export const SYNAPSE_METRICS_PORT = 9000;
/** Where a `type: metrics` listener serves the exposition (Synapse docs, metrics-howto.md). */
export const SYNAPSE_METRICS_PATH = '/_synapse/metrics';
/** The request id the edge proxy generates ($request_id) and logs; Synapse (>= 1.69) logs it too. */
export const SYNAPSE_REQUEST_ID_HEADER = 'X-Request-Id';

export { SYNAPSE_OIDC_IDP_ID };
/** Synapse prefixes every OIDC idp_id (config/oidc.py), so the SSO path says `oidc-cognito`. */
export const SYNAPSE_OIDC_IDP_ID_PREFIX = 'oidc-';

/** The deep link the mobile app registers; Synapse only redirects SSO logins to whitelisted prefixes. */
export const MOBILE_SSO_CALLBACK = 'phenomapp://chat/sso-callback';

type EnvName = (typeof HOMESERVER_SECRET_ENV)[keyof typeof HOMESERVER_SECRET_ENV] | (typeof HOMESERVER_PLAIN_ENV)[keyof typeof HOMESERVER_PLAIN_ENV];

/** A `${NAME}` placeholder, filled from the container environment at start. */
export const placeholder = (name: EnvName): string => `\${${name}}`;

/** Every placeholder name in a rendered YAML, in order of appearance. */
export function placeholdersIn(yaml: string): string[] {
  return [...yaml.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]);
}

export interface HomeserverConfigInput {
  /** The Matrix server name, the part after the colon in @user:server. */
  readonly serverName: string;
  /** Where clients reach the homeserver, e.g. https://chat.example.com (no path). */
  readonly publicBaseUrl: string;
  /** The region of the media bucket. */
  readonly awsRegion: string;
  /** How long room history is kept before Synapse's purge jobs remove it. */
  readonly historyRetentionDays: number;
  /** @default 'synapse' */
  readonly databaseName?: string;
  /** @default [MOBILE_SSO_CALLBACK] */
  readonly ssoClientWhitelist?: readonly string[];
  /**
   * Rooms every new account joins at registration (Synapse's auto_join_rooms), invited by
   * `inviterLocalpart` where the room is invite-only; never created by Synapse (autocreate off).
   * @default - no auto-join
   */
  readonly autoJoin?: { readonly roomAliases: readonly string[]; readonly inviterLocalpart: string };

  /**
   * The Admin UI's path under publicBaseUrl. Its "Sign in with SSO" returns there with the login token,
   * so it joins sso.client_whitelist (no "continue to this app?" page for our own admin console).
   * @default - no Admin UI in the whitelist
   */
  readonly adminUiPath?: string;
}

/** The subset of Synapse's homeserver.yaml schema this app sets (names as Synapse spells them). */
export interface HomeserverConfig {
  server_name: string;
  public_baseurl: string;
  serve_server_wellknown: boolean;
  report_stats: boolean;
  /** Synapse's own metrics (Prometheus text); off unless set, and then served only by a `metrics` listener here. */
  enable_metrics: boolean;
  listeners: Array<
    | { port: number; type: 'metrics'; bind_addresses: string[] }
    | {
        port: number;
        type: 'http';
        tls: boolean;
        bind_addresses: string[];
        x_forwarded: boolean;
        /** Synapse >= 1.69 (1.67 ignores it). */
        request_id_header?: string;
        resources: Array<{ names: string[]; compress: boolean }>;
      }
  >;
  database: {
    name: 'psycopg2';
    txn_limit: number;
    args: Record<string, string | number>;
  };
  signing_key_path: string;
  registration_shared_secret: string;
  macaroon_secret_key: string;
  form_secret: string;
  enable_registration: boolean;
  password_config: { enabled: boolean; localdb_enabled: boolean };
  oidc_providers: Array<{
    idp_id: string;
    idp_name: string;
    issuer: string;
    client_id: string;
    client_secret: string;
    client_auth_method: string;
    scopes: string[];
    allow_existing_users: boolean;
    user_mapping_provider: { config: { localpart_template: string; display_name_template: string; email_template: string } };
  }>;
  sso: { client_whitelist: string[]; update_profile_information: boolean };
  rc_message: { per_second: number; burst_count: number };
  media_store_path: string;
  max_upload_size: string;
  media_storage_providers: Array<{
    module: string;
    store_local: boolean;
    store_remote: boolean;
    store_synchronous: boolean;
    config: { bucket: string; region_name: string };
  }>;
  url_preview_enabled: boolean;
  retention: {
    enabled: boolean;
    default_policy: { min_lifetime: string; max_lifetime: string };
    allowed_lifetime_min: string;
    allowed_lifetime_max: string;
    purge_jobs: Array<{ interval: string }>;
  };
  redaction_retention_period: string;
  user_ips_max_age: string;
  media_retention: { remote_media_lifetime: string };
  forgotten_room_retention_period: string;
  allow_public_rooms_over_federation: boolean;
  allow_public_rooms_without_auth: boolean;
  suppress_key_server_warning: boolean;
  auto_join_rooms?: string[];
  autocreate_auto_join_rooms?: boolean;
  auto_join_mxid_localpart?: string;
}

/** A Matrix server name: a DNS name or IP literal, optionally with a port. */
const SERVER_NAME = /^(?=.{1,255}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?$/;

/**
 * Builds the homeserver config as a typed object. Every secret and every
 * deploy-time value is a `${NAME}` placeholder (see HOMESERVER_SECRET_ENV /
 * HOMESERVER_PLAIN_ENV), never an inline value.
 */
export function buildHomeserverConfig(input: HomeserverConfigInput): HomeserverConfig {
  if (!SERVER_NAME.test(input.serverName)) throw new Error(`serverName must be a lower-case DNS name, got ${input.serverName}`);
  const baseUrl = new URL(input.publicBaseUrl);
  if (baseUrl.protocol !== 'https:' || baseUrl.pathname !== '/' || baseUrl.search || baseUrl.hash) {
    throw new Error(`publicBaseUrl must be an https URL without a path, got ${input.publicBaseUrl}`);
  }
  if (!Number.isInteger(input.historyRetentionDays) || input.historyRetentionDays < 1) {
    throw new Error(`historyRetentionDays must be a positive whole number of days, got ${input.historyRetentionDays}`);
  }
  const databaseName = input.databaseName ?? 'synapse';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName)) throw new Error(`databaseName must be a lower-case SQL identifier, got ${databaseName}`);
  if (input.adminUiPath !== undefined && !/^\/[a-z0-9-]+(\/[a-z0-9-]+)*$/.test(input.adminUiPath)) {
    throw new Error(`adminUiPath must be a path such as /chat-admin, got ${input.adminUiPath}`);
  }
  const retention = `${input.historyRetentionDays}d`;
  const oidcProvider: HomeserverConfig['oidc_providers'][number] = {
    idp_id: SYNAPSE_OIDC_IDP_ID,
    idp_name: 'Phenom',
    issuer: placeholder(HOMESERVER_PLAIN_ENV.oidcIssuer),
    client_id: placeholder(HOMESERVER_SECRET_ENV.oidcClientId),
    client_secret: placeholder(HOMESERVER_SECRET_ENV.oidcClientSecret),
    // Cognito app clients with a secret accept HTTP Basic at /oauth2/token.
    client_auth_method: 'client_secret_basic',
    scopes: ['openid', 'email', 'profile'],
    // Never attach an SSO login to a pre-existing local account (the admin bot is one).
    allow_existing_users: false,
    user_mapping_provider: {
      // Defined with the code that predicts them (the membership reconciler): chat-domain/matrix-identity.ts.
      // The display name is never the e-mail address, which every room would see.
      config: { localpart_template: SYNAPSE_LOCALPART_TEMPLATE, display_name_template: SYNAPSE_DISPLAY_NAME_TEMPLATE, email_template: SYNAPSE_EMAIL_TEMPLATE },
    },
  };

  return {
    server_name: input.serverName,
    public_baseurl: baseUrl.toString(),
    // Synapse answers /.well-known/matrix/server (and /client, from public_baseurl); the ALB forwards both.
    serve_server_wellknown: true,
    report_stats: false,
    // For the A/B send latency and error rate (issue #18), scraped by the metrics sidecar.
    enable_metrics: true,
    listeners: [
      {
        port: SYNAPSE_INTERNAL_PORT,
        type: 'http',
        tls: false, // the ALB terminates TLS
        // Only the edge proxy in this task connects. Synapse takes the *leftmost* X-Forwarded-For entry
        // (http/site.py), which the ALB lets the client choose; the proxy replaces the header with the
        // one address the ALB itself saw (or Cloudflare's CF-Connecting-IP, when Cloudflare sent it).
        bind_addresses: ['127.0.0.1'],
        x_forwarded: true,
        request_id_header: SYNAPSE_REQUEST_ID_HEADER,
        resources: [{ names: ['client', 'federation'], compress: false }],
      },
      // A listener of its own (not a `metrics` resource on the one above), so the edge proxy's
      // upstream never serves /_synapse/metrics; Synapse runs it in its own thread, so a busy reactor
      // still answers the scrape.
      { port: SYNAPSE_METRICS_PORT, type: 'metrics', bind_addresses: ['127.0.0.1'] },
    ],
    database: {
      name: 'psycopg2',
      txn_limit: 10000,
      args: {
        user: placeholder(HOMESERVER_SECRET_ENV.databaseUser),
        password: placeholder(HOMESERVER_SECRET_ENV.databasePassword),
        dbname: databaseName,
        host: placeholder(HOMESERVER_PLAIN_ENV.databaseHost),
        port: placeholder(HOMESERVER_PLAIN_ENV.databasePort),
        // RDS forces TLS; verify-full checks the RDS certificate against the bundle baked into the image.
        sslmode: 'verify-full',
        sslrootcert: SYNAPSE_IMAGE_PATHS.rdsCaBundlePath,
        cp_min: 5,
        cp_max: 10,
        keepalives_idle: 10,
        keepalives_interval: 10,
        keepalives_count: 3,
      },
    },
    signing_key_path: SYNAPSE_IMAGE_PATHS.signingKeyPath,
    registration_shared_secret: placeholder(HOMESERVER_SECRET_ENV.registrationSharedSecret),
    macaroon_secret_key: placeholder(HOMESERVER_SECRET_ENV.macaroonSecretKey),
    form_secret: placeholder(HOMESERVER_SECRET_ENV.formSecret),
    // Users arrive only through Cognito SSO.
    enable_registration: false,
    // Password login stays on for local accounts with a password, which is only the admin bot: SSO users
    // have none, and the ALB refuses /_matrix/client/*/account/password so none can be set (see alb-rules.ts).
    password_config: { enabled: true, localdb_enabled: true },
    oidc_providers: [oidcProvider],
    sso: {
      client_whitelist: [
        ...(input.ssoClientWhitelist ?? [MOBILE_SSO_CALLBACK]),
        // A prefix match in Synapse: the UI sends its full current URL (…/chat-admin/#/login).
        ...(input.adminUiPath ? [new URL(`${input.adminUiPath}/`, baseUrl).toString()] : []),
      ],
      update_profile_information: true,
    },
    // Seed 000, "Rate limits": 10 messages/second, burst of 30.
    rc_message: { per_second: 10, burst_count: 30 },
    // Local copy is a cache; S3 is the store (the task's ephemeral disk is lost on every restart).
    media_store_path: SYNAPSE_IMAGE_PATHS.mediaStorePath,
    max_upload_size: '50M',
    media_storage_providers: [
      {
        module: 's3_storage_provider.S3StorageProviderBackend',
        store_local: true,
        store_remote: true,
        store_synchronous: true,
        // No credentials: boto3 uses the ECS task role.
        config: { bucket: placeholder(HOMESERVER_PLAIN_ENV.mediaBucket), region_name: input.awsRegion },
      },
    ],
    // Link previews are the link-preview Lambda's job.
    url_preview_enabled: false,
    retention: {
      enabled: true,
      default_policy: { min_lifetime: '1d', max_lifetime: retention },
      allowed_lifetime_min: '1d',
      allowed_lifetime_max: retention,
      purge_jobs: [{ interval: '12h' }],
    },
    // Redacted content and old client IPs are kept only as long as moderation needs them.
    redaction_retention_period: '7d',
    user_ips_max_age: '28d',
    media_retention: { remote_media_lifetime: retention },
    forgotten_room_retention_period: '28d',
    allow_public_rooms_over_federation: false,
    allow_public_rooms_without_auth: false,
    suppress_key_server_warning: true,
    ...(input.autoJoin
      ? {
          auto_join_rooms: [...input.autoJoin.roomAliases],
          // Off: with it on, the first real user (the admin bot) would make Synapse create the room itself, public.
          autocreate_auto_join_rooms: false,
          auto_join_mxid_localpart: input.autoJoin.inviterLocalpart,
        }
      : {}),
  };
}

/** The homeserver.yaml text, rendered with the `yaml` package. */
export function renderHomeserverYaml(input: HomeserverConfigInput): string {
  return stringify(buildHomeserverConfig(input), { lineWidth: 0 });
}
