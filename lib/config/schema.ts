import { z } from 'zod';

/**
 * The schema of one environment's config, as written under
 * `context["phenom-chat:environments"][<env>]` in cdk.json.
 *
 * Every object is `.strict()`: a misspelt key is an error at synth, not a
 * silently ignored setting. Defaults that depend on whether the environment is
 * production live in `defaults.ts`, not here, so there is one place to read them.
 */

const dnsName = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'expected a lower-case DNS name such as chat.example.com');

const arnOf = (service: string) => z.string().regex(new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]*:\\d{12}:.+$`), `expected an ARN of the form arn:aws:${service}:<region>:<account-id>:...`);

const httpsUrl = z.string().regex(/^https?:\/\/[^\s/$.?#].[^\s]*$/, 'expected an absolute http(s) URL');

const cidr = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/, 'expected an IPv4 CIDR block such as 203.0.113.0/24');

/** A lower-case PostgreSQL identifier (database or role name), usable unquoted. */
const sqlIdentifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier (a-z, 0-9, _) such as synapse');

/**
 * Synapse's database. `create` (the default) makes an empty one with its own role. `import` adopts an
 * existing homeserver's database on the (imported) instance: the deploy checks it and changes nothing.
 */
const synapseDatabase = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('create') }).strict(),
  z
    .object({
      mode: z.literal('import'),
      name: sqlIdentifier.default('synapse'),
      /**
       * JSON `{username, password}` of the role the existing Synapse connects as (the owner of its
       * tables). Synapse keeps using that role, so the old service's credentials stay valid for a rollback.
       */
      secretArn: arnOf('secretsmanager'),
    })
    .strict(),
]);

const vpcId = z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'expected a VPC id such as vpc-0123456789abcdef0');
const subnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id such as subnet-0123456789abcdef0');
const securityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id such as sg-0123456789abcdef0');

/**
 * How many source CIDRs the admin-API allow rules can hold: an ALB condition takes 5 values, the
 * host and path conditions use 2 of them, and priorities 191–198 are reserved (lib/chat-synapse/alb-rules.ts).
 */
export const MAX_ADMIN_API_CIDRS = 24;

/**
 * At most this many edge CIDRs: each opens 443 and 80 on the ALB's SG, and an SG holds at most 60
 * inbound rules per address family (the VPC quota "Inbound or outbound rules per security group").
 */
export const MAX_EDGE_CIDRS = 30;

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const logRetentionDays = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `expected one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
});

/** Fargate's valid CPU units → memory (MiB) combinations, from the ECS task-size table. */
const FARGATE_MEMORY_BY_CPU: Record<number, readonly number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};

/** The seeds' task sizes (seed 000, "ECS Task Sizing"); Hasura v2 wants about 1 GiB for its schema cache. */
export const DEFAULT_TASK_SIZES = {
  synapse: { cpu: 512, memoryMiB: 1024 },
  synapseAdmin: { cpu: 256, memoryMiB: 512 },
  mcpServer: { cpu: 256, memoryMiB: 512 },
  hasura: { cpu: 512, memoryMiB: 1024 },
} as const;

/** The Hasura engine image built into docker/hasura when hasura.image is not set (the Dockerfile's default too; bump deliberately, after reading its changelog). */
export const DEFAULT_HASURA_IMAGE = 'hasura/graphql-engine:v2.48.5';

const taskSize = z
  .object({
    cpu: z.number().int().describe('Fargate CPU units'),
    memoryMiB: z.number().int().describe('Fargate memory in MiB'),
  })
  .strict()
  .superRefine((size, ctx) => {
    const allowed = FARGATE_MEMORY_BY_CPU[size.cpu];
    if (!allowed) {
      ctx.addIssue({
        code: 'custom',
        path: ['cpu'],
        message: `expected a Fargate CPU size: ${Object.keys(FARGATE_MEMORY_BY_CPU).join(', ')}`,
      });
    } else if (!allowed.includes(size.memoryMiB)) {
      ctx.addIssue({
        code: 'custom',
        path: ['memoryMiB'],
        message: `expected a memory size Fargate allows with ${size.cpu} CPU units: ${allowed.join(', ')}`,
      });
    }
  });

const certificate = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('import'),
      arn: arnOf('acm').describe('An ACM certificate in the stack region covering domainName'),
    })
    .strict(),
  z
    .object({
      mode: z.literal('create'),
      /**
       * How the new certificate is validated. `route53` validates automatically through the
       * hosted zone; `dns-manual` makes CloudFormation wait until someone adds the CNAME that
       * ACM prints (the seeds' DNS lives in Cloudflare, so this is the realistic default).
       */
      validation: z.enum(['route53', 'dns-manual']),
      hostedZoneId: z
        .string()
        .regex(/^Z[0-9A-Z]{4,32}$/, 'expected a Route 53 hosted zone id such as Z0123456789ABC')
        .optional(),
      hostedZoneName: dnsName.optional(),
    })
    .strict()
    .superRefine((c, ctx) => {
      if (c.validation === 'route53' && (!c.hostedZoneId || !c.hostedZoneName)) {
        ctx.addIssue({
          code: 'custom',
          path: ['hostedZoneId'],
          message: 'validation "route53" needs both hostedZoneId and hostedZoneName',
        });
      }
    }),
]);

const network = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      cidr: cidr.optional(),
      natGateways: z.number().int().min(1).max(2).optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('import'),
      vpcId,
      availabilityZones: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'expected an AZ name such as us-east-1a')).min(2),
      publicSubnetIds: z.array(subnetId).min(2),
      privateSubnetIds: z.array(subnetId).min(2),
      isolatedSubnetIds: z.array(subnetId).min(2),
    })
    .strict(),
]);

const loadBalancer = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('create') }).strict(),
  z
    .object({
      mode: z.literal('import'),
      listenerArn: arnOf('elasticloadbalancing'),
      securityGroupId,
      loadBalancerArn: arnOf('elasticloadbalancing'),
      dnsName: z.string().min(1),
      canonicalHostedZoneId: z.string().min(1),
    })
    .strict(),
]);

const cluster = z.discriminatedUnion('mode', [z.object({ mode: z.literal('create') }).strict(), z.object({ mode: z.literal('import'), clusterName: z.string().min(1) }).strict()]);

/**
 * The newest PostgreSQL 17 minor aws-cdk-lib offers as `PostgresEngineVersion.VER_17_<n>`. RDS stops
 * creating old minors (17.1–17.4 since May 2026), so the default is the newest one; applyDefaults
 * checks that a configured version is one aws-cdk-lib offers and, for a created instance, one RDS
 * still creates (postgres-versions.ts).
 */
export const DEFAULT_POSTGRES_ENGINE_VERSION = '17.9';
const engineVersion = z.string().regex(/^17\.\d{1,2}$/, 'expected a PostgreSQL 17 minor version such as 17.9 (the major version stays 17)');

const database = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      engineVersion: engineVersion.optional(),
      instanceClass: z
        .string()
        .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'expected an RDS instance class such as db.m5.large')
        .optional(),
      multiAz: z.boolean().optional(),
      allocatedStorageGiB: z.number().int().min(20).max(65536).optional(),
      maxAllocatedStorageGiB: z.number().int().min(20).max(65536).optional(),
      backupRetentionDays: z.number().int().min(1).max(35).optional(),
      deletionProtection: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('import'),
      endpoint: z.string().min(1).describe('The instance endpoint address'),
      port: z.number().int().min(1).max(65535).default(5432),
      databaseName: z.string().min(1).default('postgres'),
      secretArn: arnOf('secretsmanager').describe('A secret with username and password keys'),
      securityGroupId,
      instanceIdentifier: z.string().min(1),
      /** The imported instance's engine version, as RDS reports it. */
      engineVersion: engineVersion.optional(),
    })
    .strict(),
]);

const userPool = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      domainPrefix: z
        .string()
        .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a lower-case Cognito domain prefix')
        .optional(),
      /**
       * Send Cognito's e-mail (sign-up codes, password resets) through SES instead of
       * Cognito's built-in sender, whose small daily quota production would exceed.
       * Required in production.
       */
      email: z
        .object({
          fromAddress: z.email('expected an e-mail address such as no-reply@thephenom.app'),
          fromName: z.string().min(1).max(64).optional(),
          replyTo: z.email('expected an e-mail address').optional(),
          /**
           * The verified SES identity (domain or address) to send from. When left out, the
           * identity is the from address's domain, in the stack's account and region.
           */
          sesIdentityArn: arnOf('ses').optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('import'),
      userPoolId: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$/, 'expected a user pool id such as us-east-1_AbCdEfGhI'),
      domain: dnsName.describe('The hosted-UI domain, e.g. phenom.auth.us-east-1.amazoncognito.com'),
    })
    .strict(),
]);

const hasura = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('create'),
      image: z
        .string()
        .regex(/^[\w./-]+:[\w.-]+$/, 'expected an image with a pinned tag')
        .optional(),
      /** Autoscaling bounds of the engine's service (on CPU and requests per target); the connection budget multiplies the maximum by each task's pools. */
      minCount: z.number().int().min(1).max(20).optional(),
      maxCount: z.number().int().min(1).max(20).optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('import'),
      endpoint: httpsUrl.describe('The GraphQL endpoint, e.g. https://hasura.example.com/v1/graphql'),
      adminSecretArn: arnOf('secretsmanager'),
    })
    .strict(),
]);

/**
 * Synapse's workers (issue #17): which processes besides the main one run, each as its own Fargate
 * service, replicating over ElastiCache. Counts are per kind; defaults (index.ts) depend on `production`.
 */
/** Production's worker set: what one main process hands off first (sync and reads, federation out, media). */
export const DEFAULT_SYNAPSE_WORKERS = {
  generic: { minCount: 2, maxCount: 6 },
  federationSenders: 1,
  mediaRepository: 1,
  eventPersisters: 0,
  redis: { nodeType: 'cache.t4g.small' },
} as const;

export const MAX_SYNAPSE_WORKER_SHARDS = 4;
export const MAX_GENERIC_WORKERS = 20;
const synapseWorkers = z
  .object({
    enabled: z.boolean().optional(),
    generic: z
      .object({
        minCount: z.number().int().min(1).max(MAX_GENERIC_WORKERS),
        maxCount: z.number().int().min(1).max(MAX_GENERIC_WORKERS),
      })
      .strict()
      .refine((g) => g.minCount <= g.maxCount, { message: 'expected minCount ≤ maxCount', path: ['maxCount'] })
      .optional(),
    federationSenders: z.number().int().min(0).max(MAX_SYNAPSE_WORKER_SHARDS).optional(),
    mediaRepository: z.number().int().min(0).max(1).optional(),
    eventPersisters: z.number().int().min(0).max(MAX_SYNAPSE_WORKER_SHARDS).optional(),
    redis: z
      .object({
        nodeType: z
          .string()
          .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'expected an ElastiCache node type such as cache.t4g.small')
          .optional(),
        replicas: z.number().int().min(0).max(5).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

const services = z
  .object({
    synapse: taskSize.optional(),
    synapseAdmin: taskSize.optional(),
    mcpServer: taskSize.optional(),
    hasura: taskSize.optional(),
  })
  .strict();

export const environmentConfigSchema = z
  .object({
    /** Marks the environment as production: turns on Multi-AZ, deletion protection, longer backups and WAF. */
    production: z.boolean().default(false),
    projectName: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,20}$/, 'expected a short lower-case name such as phenom')
      .default('phenom'),
    account: z
      .string()
      .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
      .optional(),
    /**
     * The seeds run in us-east-1. A region is always set because ALB access logging needs
     * the region's log-delivery principal at synth; the account stays optional.
     */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as us-east-1')
      .default('us-east-1'),
    domainName: dnsName,
    /** The Matrix server name (the part after the colon in @user:server). */
    matrixServerName: dnsName.optional(),
    certificate: certificate.optional(),
    network: network.default({ mode: 'create' }),
    loadBalancer: loadBalancer.default({ mode: 'create' }),
    cluster: cluster.default({ mode: 'create' }),
    database: database.default({ mode: 'create' }),
    userPool: userPool.default({ mode: 'create' }),
    hasura: hasura.default({ mode: 'create' }),
    services: services.default({}),
    images: z
      .object({
        /**
         * CPU architecture of every container image and Fargate task. arm64 (Graviton) is cheaper;
         * x86_64 is for deploying machines that cannot build arm64 images (no emulation).
         */
        architecture: z.enum(['arm64', 'x86_64']).default('arm64'),
      })
      .strict()
      .default({ architecture: 'arm64' }),
    mcp: z
      .object({
        backendType: z.enum(['hasura', 'synapse', 'postgres']).default('hasura'),
        maxCount: z.number().int().min(1).max(20).default(4),
      })
      .strict()
      .default({ backendType: 'hasura', maxCount: 4 }),
    /**
     * What sits in front of the ALB. `cloudflare` (the seeds' proxied DNS record): the ALB sees Cloudflare's
     * addresses, so Synapse takes the client IP from CF-Connecting-IP, but only on requests that reached the
     * ALB from Cloudflare's published ranges. `none`: the client connects to the ALB itself. The default is
     * `cloudflare` in production and `none` otherwise (applied in index.ts).
     */
    edge: z
      .object({
        provider: z.enum(['cloudflare', 'none']).optional(),
        /**
         * The only sources the ALB's SG lets in, on 443 and 80. IPv4 only: the ALB is IPv4-only, so
         * Cloudflare reaches it over IPv4. Default (index.ts): Cloudflare's IPv4 ranges with `cloudflare`,
         * 0.0.0.0/0 with `none`.
         */
        allowedCidrs: z
          .array(cidr)
          .min(1, 'expected at least one CIDR (leave the key out for the default)')
          .max(MAX_EDGE_CIDRS, `expected at most ${MAX_EDGE_CIDRS} CIDRs (each opens two ports on the ALB's SG, which holds at most 60 inbound rules); use wider blocks`)
          .optional(),
      })
      .strict()
      .default({}),
    synapse: z
      .object({
        /**
         * An extra restriction on /_synapse/admin/*: only these source CIDRs (as the ALB sees them). Empty
         * (the default) means from anywhere, behind Cognito sign-in at the ALB and Synapse's own admin check.
         */
        adminApiAllowedCidrs: z
          .array(cidr)
          .max(MAX_ADMIN_API_CIDRS, `expected at most ${MAX_ADMIN_API_CIDRS} CIDRs (they fill the ALB rule priorities reserved for them); use wider blocks`)
          .default([]),
        historyRetentionDays: z.number().int().min(1).max(3650).default(90),
        /**
         * Adopt an existing homeserver's identity: a secret holding its signing key in Synapse's
         * key-file format (`ed25519 <key id> <base64 seed>`). When left out, a key is derived from a
         * generated seed, which gives a new server identity.
         */
        signingKeySecretArn: arnOf('secretsmanager').optional(),
        database: synapseDatabase.default({ mode: 'create' }),
        workers: synapseWorkers.default({ redis: {} }),
      })
      .strict()
      .default({ adminApiAllowedCidrs: [], historyRetentionDays: 90, database: { mode: 'create' }, workers: { redis: {} } }),
    linkPreview: z
      .object({
        phenomGraphqlUrl: httpsUrl,
        /** A secret holding the Phenom API credentials; when absent the Lambda calls the API unauthenticated. */
        phenomCredentialsSecretArn: arnOf('secretsmanager').optional(),
        cacheTtlHours: z
          .number()
          .int()
          .min(1)
          .max(24 * 30)
          .default(24),
        /** The public URL of a piece of Phenom content, stored as link_previews.url; `{phenomId}` is replaced by the (URL-encoded) id. */
        previewUrlTemplate: z
          .string()
          .regex(/^https:\/\/[^\s/$.?#][^\s{}]*\{phenomId\}[^\s{}]*$/, 'expected an https URL containing {phenomId} once, e.g. https://thephenom.app/p/{phenomId}')
          .default('https://thephenom.app/p/{phenomId}'),
      })
      .strict(),
    monitoring: z
      .object({
        alarmEmail: z.email('expected an e-mail address').optional(),
        logRetentionDays: logRetentionDays.optional(),
      })
      .strict()
      .default({}),
    waf: z
      .object({
        enabled: z.boolean().optional(),
        /** Requests per IP per 5-minute window before the rate rule blocks. */
        ratePerIpPer5Min: z.number().int().min(10).max(2_000_000_000).default(2000),
      })
      .strict()
      .default({ ratePerIpPer5Min: 2000 }),
  })
  .strict();

export type EnvironmentConfigInput = z.input<typeof environmentConfigSchema>;
export type ParsedEnvironmentConfig = z.output<typeof environmentConfigSchema>;

export const environmentsSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lower-case environment name'), z.unknown())
  .refine((envs) => Object.keys(envs).length > 0, { message: 'expected at least one environment' });
