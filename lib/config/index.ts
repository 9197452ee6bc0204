import { z } from 'zod';
import { DEFAULT_POSTGRES_ENGINE_VERSION, environmentConfigSchema, environmentsSchema, ParsedEnvironmentConfig } from './schema';

export { DEFAULT_POSTGRES_ENGINE_VERSION, LOG_RETENTION_DAYS } from './schema';

/** The cdk.json context key that holds every environment's config. */
export const ENVIRONMENTS_CONTEXT_KEY = 'phenom-chat:environments';
/** The context key (`-c env=NAME`) that picks the environment. */
export const ENV_CONTEXT_KEY = 'env';
export const DEFAULT_ENV = 'development';

export interface TaskSize {
  readonly cpu: number;
  readonly memoryMiB: number;
}

/**
 * One environment's config with every default applied. Constructs read this,
 * never raw context, so a default is decided here once.
 */
export type ChatConfig = Omit<ParsedEnvironmentConfig, 'certificate' | 'network' | 'database' | 'userPool' | 'hasura' | 'services' | 'monitoring' | 'waf' | 'edge'> & {
  readonly envName: string;
  /** `<projectName>-<envName>`, the prefix of every physical name. */
  readonly prefix: string;
  readonly matrixServerName: string;
  readonly certificate: Extract<NonNullable<ParsedEnvironmentConfig['certificate']>, { mode: 'import' }> | {
    readonly mode: 'create';
    readonly validation: 'route53' | 'dns-manual';
    readonly hostedZoneId?: string;
    readonly hostedZoneName?: string;
  };
  readonly network:
    | { readonly mode: 'create'; readonly cidr: string; readonly natGateways: number }
    | Extract<ParsedEnvironmentConfig['network'], { mode: 'import' }>;
  readonly database:
    | {
        readonly mode: 'create';
        readonly engineVersion: string;
        readonly instanceClass: string;
        readonly multiAz: boolean;
        readonly allocatedStorageGiB: number;
        readonly maxAllocatedStorageGiB: number;
        readonly backupRetentionDays: number;
        readonly deletionProtection: boolean;
      }
    | (Extract<ParsedEnvironmentConfig['database'], { mode: 'import' }> & { readonly engineVersion: string });
  readonly userPool:
    | {
        readonly mode: 'create';
        readonly domainPrefix: string;
        readonly deletionProtection: boolean;
        readonly email?: NonNullable<Extract<ParsedEnvironmentConfig['userPool'], { mode: 'create' }>['email']>;
      }
    | Extract<ParsedEnvironmentConfig['userPool'], { mode: 'import' }>;
  readonly hasura: { readonly mode: 'create'; readonly image: string } | Extract<ParsedEnvironmentConfig['hasura'], { mode: 'import' }>;
  readonly services: {
    readonly synapse: TaskSize;
    readonly synapseAdmin: TaskSize;
    readonly mcpServer: TaskSize;
    readonly hasura: TaskSize;
  };
  readonly monitoring: { readonly alarmEmail?: string; readonly logRetentionDays: number };
  readonly waf: { readonly enabled: boolean; readonly ratePerIpPer5Min: number };
  /** What is in front of the ALB (see schema.ts `edge`). */
  readonly edge: { readonly provider: 'cloudflare' | 'none' };
};

/** Thrown for any config problem; the message names the key and what is expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function formatIssues(prefix: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = [prefix, ...issue.path.map(String)].join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${key}.${k}: unknown key; check its spelling against the configuration reference in README.md`).join('\n');
      }
      if (issue.code === 'invalid_union' && 'discriminator' in issue) {
        // zod already puts the discriminator key in the path.
        return `${key}: expected "create" or "import"`;
      }
      return `${key}: ${issue.message}`;
    })
    .join('\n');
}

/** True when an IPv4 CIDR lies inside one of the RFC 1918 private ranges. */
function isRfc1918(cidr: string): boolean {
  const [ip, bits] = cidr.split('/');
  const [a, b] = ip.split('.').map(Number);
  const prefix = Number(bits);
  return (a === 10 && prefix >= 8) || (a === 172 && b >= 16 && b <= 31 && prefix >= 12) || (a === 192 && b === 168 && prefix >= 16);
}

/** Applies the defaults that depend on whether the environment is production. */
export function applyDefaults(envName: string, parsed: ParsedEnvironmentConfig): ChatConfig {
  const production = parsed.production;
  const prefix = `${parsed.projectName}-${envName}`;
  const keyPrefix = `${ENVIRONMENTS_CONTEXT_KEY}.${envName}`;

  if (!parsed.certificate && production) {
    throw new ConfigError(
      `${keyPrefix}.certificate: a production environment needs a way to get its TLS certificate. ` +
        'Set certificate to {"mode":"import","arn":"arn:aws:acm:..."} for an existing ACM certificate, ' +
        'or {"mode":"create","validation":"route53","hostedZoneId":"Z...","hostedZoneName":"..."} to validate through Route 53, ' +
        'or {"mode":"create","validation":"dns-manual"} if you will add the validation CNAME at your DNS provider while the deploy waits.',
    );
  }

  const network =
    parsed.network.mode === 'create'
      ? {
          mode: 'create' as const,
          cidr: parsed.network.cidr ?? '10.40.0.0/16',
          // One NAT per AZ in production so an AZ outage does not cut egress for the other AZ.
          natGateways: parsed.network.natGateways ?? (production ? 2 : 1),
        }
      : parsed.network;

  const database =
    parsed.database.mode === 'create'
      ? {
          mode: 'create' as const,
          engineVersion: parsed.database.engineVersion ?? DEFAULT_POSTGRES_ENGINE_VERSION,
          instanceClass: parsed.database.instanceClass ?? 'db.m5.large',
          multiAz: parsed.database.multiAz ?? production,
          allocatedStorageGiB: parsed.database.allocatedStorageGiB ?? 50,
          maxAllocatedStorageGiB: parsed.database.maxAllocatedStorageGiB ?? 200,
          backupRetentionDays: parsed.database.backupRetentionDays ?? (production ? 30 : 7),
          deletionProtection: parsed.database.deletionProtection ?? production,
        }
      : { ...parsed.database, engineVersion: parsed.database.engineVersion ?? DEFAULT_POSTGRES_ENGINE_VERSION };
  if (database.mode === 'create' && database.maxAllocatedStorageGiB < database.allocatedStorageGiB) {
    throw new ConfigError(`${keyPrefix}.database.maxAllocatedStorageGiB: expected at least allocatedStorageGiB (${database.allocatedStorageGiB})`);
  }

  if (production && parsed.userPool.mode === 'create' && !parsed.userPool.email) {
    throw new ConfigError(
      `${keyPrefix}.userPool.email: a production user pool must send e-mail through SES, because Cognito's built-in sender ` +
        'has a small daily quota and sign-up codes and password resets stop arriving. Set userPool.email to ' +
        '{"fromAddress":"no-reply@<your verified SES domain>"} (the identity defaults to that domain in this account and region) ' +
        'or add "sesIdentityArn":"arn:aws:ses:<region>:<account>:identity/<domain>" for an identity elsewhere.',
    );
  }

  const edge = { provider: parsed.edge.provider ?? (production ? 'cloudflare' : 'none') } as const;
  // Synapse's edge proxy believes X-Forwarded-For only from private (RFC 1918) peers, which is where the
  // ALB's nodes are in a VPC created here (docker/synapse-edge/nginx.conf).
  if (network.mode === 'create' && !isRfc1918(network.cidr)) {
    throw new ConfigError(
      `${keyPrefix}.network.cidr: expected a private range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, got ${network.cidr}; ` +
        "Synapse's edge proxy takes the client address only from ALB nodes at such addresses",
    );
  }
  if (edge.provider === 'cloudflare' && parsed.synapse.adminApiAllowedCidrs.length > 0) {
    throw new ConfigError(
      `${keyPrefix}.synapse.adminApiAllowedCidrs: behind Cloudflare (edge.provider "cloudflare") the ALB sees only Cloudflare's ` +
        'addresses, so a source-CIDR list cannot single out staff and would refuse every admin. Leave it empty (the Admin UI ' +
        'is behind Cognito sign-in at the ALB, and Synapse admits only server admins), or set edge.provider to "none" if clients ' +
        'connect to the ALB directly.',
    );
  }

  return {
    ...parsed,
    envName,
    edge,
    prefix,
    matrixServerName: parsed.matrixServerName ?? parsed.domainName,
    certificate: parsed.certificate ?? { mode: 'create', validation: 'dns-manual' },
    network,
    database,
    userPool:
      parsed.userPool.mode === 'create'
        ? {
            mode: 'create',
            domainPrefix: parsed.userPool.domainPrefix ?? `${prefix}-chat`,
            deletionProtection: production,
            email: parsed.userPool.email,
          }
        : parsed.userPool,
    hasura: parsed.hasura.mode === 'create' ? { mode: 'create', image: parsed.hasura.image ?? 'hasura/graphql-engine:v2.48.5' } : parsed.hasura,
    services: {
      // The seeds' task sizes (seed 000, "ECS Task Sizing").
      synapse: parsed.services.synapse ?? { cpu: 512, memoryMiB: 1024 },
      synapseAdmin: parsed.services.synapseAdmin ?? { cpu: 256, memoryMiB: 512 },
      mcpServer: parsed.services.mcpServer ?? { cpu: 256, memoryMiB: 512 },
      // Hasura v2 wants about 1 GiB to hold its schema cache comfortably.
      hasura: parsed.services.hasura ?? { cpu: 512, memoryMiB: 1024 },
    },
    monitoring: {
      alarmEmail: parsed.monitoring.alarmEmail,
      logRetentionDays: parsed.monitoring.logRetentionDays ?? (production ? 365 : 30),
    },
    waf: { enabled: parsed.waf.enabled ?? production, ratePerIpPer5Min: parsed.waf.ratePerIpPer5Min },
  };
}

/**
 * Validates the `phenom-chat:environments` context and returns the chosen
 * environment's config. Throws a ConfigError naming the offending key.
 */
export function loadConfig(environments: unknown, envName: string = DEFAULT_ENV): ChatConfig {
  if (environments === undefined) {
    throw new ConfigError(`${ENVIRONMENTS_CONTEXT_KEY}: missing from cdk.json context; expected an object of environments`);
  }
  const envs = environmentsSchema.safeParse(environments);
  if (!envs.success) {
    throw new ConfigError(formatIssues(ENVIRONMENTS_CONTEXT_KEY, envs.error));
  }
  if (!(envName in envs.data)) {
    throw new ConfigError(
      `${ENV_CONTEXT_KEY}: unknown environment "${envName}"; expected one of ${Object.keys(envs.data).join(', ')} (pick it with -c env=NAME)`,
    );
  }
  const parsed = environmentConfigSchema.safeParse(envs.data[envName]);
  if (!parsed.success) {
    throw new ConfigError(formatIssues(`${ENVIRONMENTS_CONTEXT_KEY}.${envName}`, parsed.error));
  }
  return applyDefaults(envName, parsed.data);
}

/** Validates every environment, so a broken production block fails a development synth too. */
export function loadAllConfigs(environments: unknown): ChatConfig[] {
  const envs = environmentsSchema.safeParse(environments);
  if (!envs.success) {
    throw new ConfigError(formatIssues(ENVIRONMENTS_CONTEXT_KEY, envs.error));
  }
  return Object.keys(envs.data).map((name) => loadConfig(environments, name));
}
