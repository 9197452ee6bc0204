import { z } from 'zod';
import { CLOUDFLARE_IPV4_RANGES } from '../../chat-domain/client-ip';
import { engineVersionProblem } from './postgres-versions';
import { DEFAULT_HASURA_IMAGE, DEFAULT_POSTGRES_ENGINE_VERSION, DEFAULT_SYNAPSE_WORKERS, DEFAULT_TASK_SIZES, environmentConfigSchema, environmentsSchema, ParsedEnvironmentConfig } from './schema';

export { CDK_POSTGRES_17_VERSIONS, postgresEngineVersion, RDS_NO_LONGER_CREATES } from './postgres-versions';
export { DEFAULT_HASURA_IMAGE, DEFAULT_POSTGRES_ENGINE_VERSION, LOG_RETENTION_DAYS } from './schema';

/** The cdk.json context key that holds every environment's config. */
export const ENVIRONMENTS_CONTEXT_KEY = 'phenom-chat:environments';
/** The context key (`-c env=NAME`) that picks the environment. */
export const ENV_CONTEXT_KEY = 'env';
export const DEFAULT_ENV = 'development';

/** Thrown for any config problem; the message names the key and what is expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The create/import variants of the object schema at `path`, if it is one of the mode unions. */
function modeVariantsAt(path: readonly PropertyKey[]): Map<string, Set<string>> | undefined {
  let node: z.ZodType = environmentConfigSchema;
  for (const segment of path) {
    while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
    if (!(node instanceof z.ZodObject)) return undefined;
    const next = (node.shape as Record<string, z.ZodType>)[String(segment)];
    if (!next) return undefined;
    node = next;
  }
  while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
  if (!(node instanceof z.ZodDiscriminatedUnion)) return undefined;
  const variants = new Map<string, Set<string>>();
  for (const option of node.options as z.ZodObject[]) {
    const mode = (option.shape.mode as z.ZodLiteral<string>).value;
    variants.set(mode, new Set(Object.keys(option.shape)));
  }
  return variants;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
}

/**
 * A key that is unknown in this mode but belongs to another (an `instanceClass` on an imported
 * database) gets a message saying so, instead of a hint to check its spelling.
 */
function unknownKeyMessage(path: readonly PropertyKey[], key: string, input: unknown): string {
  const variants = modeVariantsAt(path);
  const mode = (valueAt(input, path) as { mode?: unknown } | undefined)?.mode;
  if (variants && typeof mode === 'string') {
    const owners = [...variants].filter(([m, keys]) => m !== mode && keys.has(key)).map(([m]) => `"${m}"`);
    if (owners.length > 0) {
      return `applies only when ${[...path.map(String), 'mode'].join('.')} is ${owners.join(' or ')}; this environment uses "${mode}", so remove it`;
    }
  }
  return 'unknown key; check its spelling against the configuration reference in README.md';
}

function formatIssues(prefix: string, error: z.ZodError, input?: unknown): string {
  return error.issues
    .map((issue) => {
      const key = [prefix, ...issue.path.map(String)].join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `${key}.${k}: ${unknownKeyMessage(issue.path, k, input)}`).join('\n');
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

/**
 * Applies the defaults that depend on whether the environment is production, and the checks
 * that span several keys. A problem is reported as a zod issue at its key, so it reads like
 * every other config error.
 */
function resolve(envName: string, parsed: ParsedEnvironmentConfig, ctx: z.RefinementCtx) {
  const production = parsed.production;
  const prefix = `${parsed.projectName}-${envName}`;

  if (!parsed.certificate && production) {
    ctx.addIssue({
      code: 'custom',
      path: ['certificate'],
      message:
        'a production environment needs a way to get its TLS certificate. ' +
        'Set certificate to {"mode":"import","arn":"arn:aws:acm:..."} for an existing ACM certificate, ' +
        'or {"mode":"create","validation":"route53","hostedZoneId":"Z...","hostedZoneName":"..."} to validate through Route 53, ' +
        'or {"mode":"create","validation":"dns-manual"} if you will add the validation CNAME at your DNS provider while the deploy waits.',
    });
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
  const engineProblem = engineVersionProblem(database.engineVersion, database.mode);
  if (engineProblem) ctx.addIssue({ code: 'custom', path: ['database', 'engineVersion'], message: engineProblem });
  if (database.mode === 'create' && database.maxAllocatedStorageGiB < database.allocatedStorageGiB) {
    ctx.addIssue({
      code: 'custom',
      path: ['database', 'maxAllocatedStorageGiB'],
      message: `expected at least allocatedStorageGiB (${database.allocatedStorageGiB})`,
    });
  }

  if (production && parsed.userPool.mode === 'create' && !parsed.userPool.email) {
    ctx.addIssue({
      code: 'custom',
      path: ['userPool', 'email'],
      message:
        "a production user pool must send e-mail through SES, because Cognito's built-in sender " +
        'has a small daily quota and sign-up codes and password resets stop arriving. Set userPool.email to ' +
        '{"fromAddress":"no-reply@<your verified SES domain>"} (the identity defaults to that domain in this account and region) ' +
        'or add "sesIdentityArn":"arn:aws:ses:<region>:<account>:identity/<domain>" for an identity elsewhere.',
    });
  }

  const email = parsed.userPool.mode === 'create' ? parsed.userPool.email : undefined;
  if (email?.sesIdentityArn) {
    // SES sends from an address only if the identity is that address or its domain (SES developer guide,
    // "Verified identities"); Cognito would accept the config and fail on the first e-mail instead.
    const identity = /:identity\/(.+)$/.exec(email.sesIdentityArn)?.[1]?.toLowerCase();
    const address = email.fromAddress.toLowerCase();
    if (!identity || (identity !== address && identity !== address.split('@')[1])) {
      ctx.addIssue({
        code: 'custom',
        path: ['userPool', 'email', 'sesIdentityArn'],
        message: `expected the SES identity of ${email.fromAddress} or of its domain ` + `(arn:aws:ses:<region>:<account>:identity/${address.split('@')[1]}), got ${email.sesIdentityArn}`,
      });
    }
  }

  if (parsed.synapse.database.mode === 'import' && parsed.database.mode !== 'import') {
    ctx.addIssue({
      code: 'custom',
      path: ['synapse', 'database'],
      message:
        '"import" adopts an existing Synapse database, so it needs the instance that holds it: ' +
        'set database to {"mode":"import",...} for that RDS instance. An instance this stack creates is empty when Synapse first starts.',
    });
  }

  const hasuraMinCount = (parsed.hasura.mode === 'create' ? parsed.hasura.minCount : undefined) ?? (production ? 2 : 1);
  if (parsed.hasura.mode === 'create' && parsed.hasura.maxCount !== undefined && parsed.hasura.maxCount < hasuraMinCount) {
    ctx.addIssue({ code: 'custom', path: ['hasura', 'maxCount'], message: `expected at least hasura.minCount (${hasuraMinCount}), got ${parsed.hasura.maxCount}` });
  }
  const synapseWorkers = resolveSynapseWorkers(parsed.synapse.workers, production, ctx);

  const edgeProvider = parsed.edge.provider ?? (production ? 'cloudflare' : 'none');
  const edge = {
    provider: edgeProvider,
    allowedCidrs: parsed.edge.allowedCidrs ?? (edgeProvider === 'cloudflare' ? [...CLOUDFLARE_IPV4_RANGES] : ['0.0.0.0/0']),
  } as const;
  if (parsed.edge.allowedCidrs && parsed.loadBalancer.mode === 'import') {
    ctx.addIssue({
      code: 'custom',
      path: ['edge', 'allowedCidrs'],
      message: "an imported ALB keeps its own security group, whose rules this stack does not own: limit that SG to the edge's ranges where it is managed, and leave edge.allowedCidrs out",
    });
  }
  // Synapse's edge proxy believes X-Forwarded-For only from private (RFC 1918) peers, which is where the
  // ALB's nodes are in a VPC created here (docker/synapse-edge/nginx.conf).
  if (network.mode === 'create' && !isRfc1918(network.cidr)) {
    ctx.addIssue({
      code: 'custom',
      path: ['network', 'cidr'],
      message:
        `expected a private range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, got ${network.cidr}; ` + "Synapse's edge proxy takes the client address only from ALB nodes at such addresses",
    });
  }
  if (edge.provider === 'cloudflare' && parsed.synapse.adminApiAllowedCidrs.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['synapse', 'adminApiAllowedCidrs'],
      message:
        'behind Cloudflare (edge.provider "cloudflare") the ALB sees only Cloudflare\'s ' +
        'addresses, so a source-CIDR list cannot single out staff and would refuse every admin. Leave it empty (the Admin UI ' +
        'is behind Cognito sign-in at the ALB, and Synapse admits only server admins), or set edge.provider to "none" if clients ' +
        'connect to the ALB directly.',
    });
  }

  return {
    ...parsed,
    envName,
    edge,
    /** `<projectName>-<envName>`, the prefix of every physical name. */
    prefix,
    matrixServerName: parsed.matrixServerName ?? parsed.domainName,
    certificate: parsed.certificate ?? ({ mode: 'create', validation: 'dns-manual' } as NonNullable<ParsedEnvironmentConfig['certificate']>),
    network,
    database,
    userPool:
      parsed.userPool.mode === 'create'
        ? {
            mode: 'create' as const,
            domainPrefix: parsed.userPool.domainPrefix ?? `${prefix}-chat`,
            deletionProtection: production,
            email: parsed.userPool.email,
          }
        : parsed.userPool,
    hasura:
      parsed.hasura.mode === 'create'
        ? {
            mode: 'create' as const,
            image: parsed.hasura.image ?? DEFAULT_HASURA_IMAGE,
            // Two tasks in production so a deploy or an AZ loss never drops the GraphQL API.
            minCount: hasuraMinCount,
            maxCount: parsed.hasura.maxCount ?? Math.max(hasuraMinCount, production ? 6 : 2),
          }
        : parsed.hasura,
    services: {
      // The seeds' task sizes (seed 000, "ECS Task Sizing").
      synapse: parsed.services.synapse ?? DEFAULT_TASK_SIZES.synapse,
      synapseAdmin: parsed.services.synapseAdmin ?? DEFAULT_TASK_SIZES.synapseAdmin,
      mcpServer: parsed.services.mcpServer ?? DEFAULT_TASK_SIZES.mcpServer,
      hasura: parsed.services.hasura ?? DEFAULT_TASK_SIZES.hasura,
    },
    monitoring: {
      alarmEmail: parsed.monitoring.alarmEmail,
      logRetentionDays: parsed.monitoring.logRetentionDays ?? (production ? 365 : 30),
    },
    waf: { enabled: parsed.waf.enabled ?? production, ratePerIpPer5Min: parsed.waf.ratePerIpPer5Min },
    synapse: { ...parsed.synapse, workers: synapseWorkers },
  };
}

type ParsedWorkers = ParsedEnvironmentConfig['synapse']['workers'];

/** The worker layout with its defaults, or `{ enabled: false }`: one process, today's template. */
function resolveSynapseWorkers(w: ParsedWorkers, production: boolean, ctx: z.RefinementCtx) {
  const enabled = w.enabled ?? production;
  if (!enabled) {
    const set = (Object.keys(w) as (keyof ParsedWorkers)[]).filter((k) => k !== 'enabled' && k !== 'redis' && w[k] !== undefined);
    if (Object.keys(w.redis).length > 0) set.push('redis');
    for (const k of set) {
      ctx.addIssue({
        code: 'custom',
        path: ['synapse', 'workers', k],
        message: 'applies only when synapse.workers.enabled is true (workers are off in this environment), so remove it or enable workers',
      });
    }
    return { enabled: false as const };
  }
  return {
    enabled: true as const,
    generic: w.generic ?? DEFAULT_SYNAPSE_WORKERS.generic,
    federationSenders: w.federationSenders ?? DEFAULT_SYNAPSE_WORKERS.federationSenders,
    mediaRepository: w.mediaRepository ?? DEFAULT_SYNAPSE_WORKERS.mediaRepository,
    eventPersisters: w.eventPersisters ?? DEFAULT_SYNAPSE_WORKERS.eventPersisters,
    redis: {
      nodeType: w.redis.nodeType ?? DEFAULT_SYNAPSE_WORKERS.redis.nodeType,
      // A replica in another AZ is what lets ElastiCache fail over; development can live without it.
      replicas: w.redis.replicas ?? (production ? 1 : 0),
    },
  };
}

/** The schema of one environment's config with every default applied: cdk.json in, ChatConfig out. */
export function chatConfigSchema(envName: string) {
  return environmentConfigSchema.transform((parsed, ctx) => resolve(envName, parsed, ctx));
}

/**
 * One environment's config with every default applied: the output type of the schema, so
 * there is no second, hand-written description of it. Constructs read this, never raw context.
 */
export type ChatConfig = z.output<ReturnType<typeof chatConfigSchema>>;

export interface TaskSize {
  readonly cpu: number;
  readonly memoryMiB: number;
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
    throw new ConfigError(`${ENV_CONTEXT_KEY}: unknown environment "${envName}"; expected one of ${Object.keys(envs.data).join(', ')} (pick it with -c env=NAME)`);
  }
  const parsed = chatConfigSchema(envName).safeParse(envs.data[envName]);
  if (!parsed.success) {
    throw new ConfigError(formatIssues(`${ENVIRONMENTS_CONTEXT_KEY}.${envName}`, parsed.error, envs.data[envName]));
  }
  return parsed.data;
}

/** Validates every environment, so a broken production block fails a development synth too. */
export function loadAllConfigs(environments: unknown): ChatConfig[] {
  if (environments === undefined) {
    throw new ConfigError(`${ENVIRONMENTS_CONTEXT_KEY}: missing from cdk.json context; expected an object of environments`);
  }
  const envs = environmentsSchema.safeParse(environments);
  if (!envs.success) {
    throw new ConfigError(formatIssues(ENVIRONMENTS_CONTEXT_KEY, envs.error));
  }
  return Object.keys(envs.data).map((name) => loadConfig(environments, name));
}

/** Plain context keys that someone meant as `env` (`-c environment=production` would otherwise synthesize development). */
const ENV_KEY_TYPO = /^(env[a-z_-]*|stage|target)$/i;

/**
 * The config an app's whole context selects: validates every environment and returns the one
 * `-c env=NAME` picks. A misspelt `phenom-chat:` key or a context key that looks like a typo
 * for `env` is an error that says what was meant, never a silent fallback to development.
 */
export function configFromContextValues(context: Record<string, unknown>): ChatConfig {
  const strays = Object.keys(context).filter((k) => k.startsWith('phenom-chat') && k !== ENVIRONMENTS_CONTEXT_KEY);
  if (strays.length > 0) {
    throw new ConfigError(`${strays.join(', ')}: unknown context key; the environments live under "${ENVIRONMENTS_CONTEXT_KEY}" in cdk.json (check its spelling)`);
  }
  const envTypos = Object.keys(context).filter((k) => k !== ENV_CONTEXT_KEY && ENV_KEY_TYPO.test(k));
  if (envTypos.length > 0) {
    const k = envTypos[0];
    throw new ConfigError(`${k}: unknown context key; the environment is picked with -c ${ENV_CONTEXT_KEY}=NAME (did you mean -c ${ENV_CONTEXT_KEY}=${String(context[k])}?)`);
  }
  const environments = context[ENVIRONMENTS_CONTEXT_KEY];
  loadAllConfigs(environments);
  const envName = context[ENV_CONTEXT_KEY] ?? DEFAULT_ENV;
  if (typeof envName !== 'string') throw new ConfigError(`${ENV_CONTEXT_KEY}: expected an environment name, got ${JSON.stringify(envName)}`);
  return loadConfig(environments, envName);
}
