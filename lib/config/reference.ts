import { z } from 'zod';
import { DEFAULT_HASURA_IMAGE, DEFAULT_POSTGRES_ENGINE_VERSION, DEFAULT_SYNAPSE_WORKERS, DEFAULT_TASK_SIZES, environmentConfigSchema } from './schema';

const size = (t: { cpu: number; memoryMiB: number }) => `${t.cpu} CPU / ${t.memoryMiB} MiB`;

/**
 * The README's configuration reference, generated from the schema: every key, the mode it
 * belongs to, its type and bounds, and its default come from `environmentConfigSchema`; only
 * the sentence saying what a key means (and a default that depends on `production`, which the
 * schema cannot express) is written here. A test fails when a schema key has no entry, when an
 * entry names no key, or when README.md differs from `renderConfigReference()`
 * (`npm run docs:config` rewrites it).
 */
export interface KeyDoc {
  /** What the key does, for a platform engineer. */
  readonly meaning: string;
  /** The default when the schema's own default does not say it (it depends on `production`, or on other keys). */
  readonly default?: string;
}

export const CONFIG_KEY_DOCS: Record<string, KeyDoc> = {
  production: { meaning: 'Production defaults: Multi-AZ, deletion protection, 30-day backups, one NAT per AZ, WAF on, 365-day logs, termination protection, SES e-mail required.' },
  projectName: { meaning: 'Prefix of every physical name: `<projectName>-<env>`.' },
  account: { meaning: 'AWS account id; unset keeps the stack account-agnostic.' },
  region: { meaning: 'Region (the seeds run in us-east-1; ALB access logging needs it at synth).' },
  domainName: { meaning: 'Public host name: `chat-testing.thephenom.app` (development), `chat.thephenom.app` (production). Every ALB rule matches it.' },
  matrixServerName: { meaning: 'Matrix server name (`@user:<this>`). Production uses `thephenom.app`, as seed 003 says.', default: '`domainName`' },
  'certificate.mode': { meaning: '`import` an ACM certificate, or `create` one. **Production with no certificate setting fails synth.**', default: '`create` with `dns-manual` (development only)' },
  'certificate.arn': { meaning: 'An ACM certificate in the stack region covering `domainName`.' },
  'certificate.validation': {
    meaning: '`route53` validates through the hosted zone; `dns-manual` makes the deploy wait until you add the CNAME ACM shows at your DNS provider (Cloudflare in the seeds).',
  },
  'certificate.hostedZoneId': { meaning: 'Route 53 hosted zone id (needed by `route53` validation).' },
  'certificate.hostedZoneName': { meaning: 'Route 53 hosted zone name (needed by `route53` validation).' },
  'network.mode': { meaning: 'Create the VPC, or import one by attributes.' },
  'network.cidr': { meaning: 'CIDR of the new VPC.', default: '`10.40.0.0/16`' },
  'network.natGateways': { meaning: 'NAT gateways (one per AZ keeps egress through an AZ outage).', default: '1; 2 in production' },
  'network.vpcId': { meaning: 'The imported VPC.' },
  'network.availabilityZones': { meaning: 'Its AZs, in the order of the subnet lists.' },
  'network.publicSubnetIds': { meaning: 'Public subnets (ALB).' },
  'network.privateSubnetIds': { meaning: 'Private subnets with egress (tasks, Lambdas).' },
  'network.isolatedSubnetIds': { meaning: 'Isolated subnets (RDS).' },
  'loadBalancer.mode': { meaning: 'Create the ALB, or import its HTTPS listener.' },
  'loadBalancer.listenerArn': { meaning: 'The imported HTTPS listener the chat rules are added to.' },
  'loadBalancer.securityGroupId': { meaning: "The imported ALB's security group." },
  'loadBalancer.loadBalancerArn': { meaning: 'The imported ALB.' },
  'loadBalancer.dnsName': { meaning: "The imported ALB's DNS name (the CNAME target)." },
  'loadBalancer.canonicalHostedZoneId': { meaning: "The imported ALB's hosted zone id." },
  'cluster.mode': { meaning: 'Create the ECS cluster, or import one by name.' },
  'cluster.clusterName': { meaning: 'The imported ECS cluster.' },
  'database.mode': { meaning: 'Create the RDS PostgreSQL instance, or import one by endpoint, secret and security group.' },
  'database.engineVersion': {
    meaning:
      'PostgreSQL 17 minor, in both modes: one aws-cdk-lib offers (`rds.PostgresEngineVersion.VER_17_*`); a created instance must also be on one RDS still creates (not 17.1–17.4). Minor upgrades are automatic and major upgrades are refused. After RDS has upgraded the instance, only raise this to the version `aws rds describe-db-instances` reports or newer: a lower one fails the update, because RDS cannot downgrade.',
    default: `\`${DEFAULT_POSTGRES_ENGINE_VERSION}\``,
  },
  'database.instanceClass': { meaning: 'RDS instance class.', default: '`db.m5.large`' },
  'database.multiAz': { meaning: 'Multi-AZ standby.', default: '`production`' },
  'database.allocatedStorageGiB': { meaning: 'Initial gp3 storage.', default: '50' },
  'database.maxAllocatedStorageGiB': { meaning: 'Storage autoscaling ceiling (at least `allocatedStorageGiB`).', default: '200' },
  'database.backupRetentionDays': { meaning: 'Automated backup retention.', default: '7; 30 in production' },
  'database.deletionProtection': { meaning: 'RDS deletion protection.', default: '`production`' },
  'database.endpoint': { meaning: "The imported instance's endpoint address." },
  'database.port': { meaning: "The imported instance's port." },
  'database.databaseName': { meaning: 'The database that holds the chat tables.' },
  'database.secretArn': { meaning: 'Secret with the master `username` and `password` (JSON).' },
  'database.securityGroupId': { meaning: "The imported instance's security group; the chat clients are let into it on 5432." },
  'database.instanceIdentifier': { meaning: "The imported instance's identifier." },
  'userPool.mode': { meaning: 'Create the Cognito user pool, or import one.' },
  'userPool.domainPrefix': { meaning: 'Hosted-UI domain prefix.', default: '`<prefix>-chat`' },
  'userPool.email': {
    meaning:
      "Send sign-up codes and password resets through SES instead of Cognito's built-in sender, whose small daily quota production outgrows: `fromAddress` (required), `fromName`, `replyTo`, `sesIdentityArn` (default: the from address's domain as an SES identity in the stack's account and region; otherwise the identity of the address or its domain, possibly in another account). The identity must be verified, and the account out of the SES sandbox, before users can receive mail. A production pool without it fails synth and says what to set.",
    default: "unset (Cognito's sender); **required in production**",
  },
  'userPool.userPoolId': { meaning: 'The imported user pool.' },
  'userPool.domain': { meaning: 'Its hosted-UI domain, e.g. `phenom.auth.us-east-1.amazoncognito.com`.' },
  'hasura.mode': { meaning: 'Run Hasura GraphQL Engine on Fargate, or use an existing one.' },
  'hasura.image': { meaning: 'The pinned `hasura/graphql-engine` tag.', default: `\`${DEFAULT_HASURA_IMAGE}\`` },
  'hasura.minCount': { meaning: 'Fewest Hasura tasks; the service scales out from here on CPU and requests per target (docs/capacity.md).', default: '1; 2 in production' },
  'hasura.maxCount': {
    meaning: 'Most Hasura tasks; each holds its source pool plus its metadata pool, counted by the connection budget (`npm run budget`).',
    default: '2; 6 in production (at least `minCount`)',
  },
  'hasura.endpoint': { meaning: 'The existing GraphQL endpoint, e.g. `https://hasura.example.com/v1/graphql`.' },
  'hasura.adminSecretArn': { meaning: "The existing engine's admin secret." },
  'services.synapse': { meaning: 'Fargate `cpu` and `memoryMiB` of Synapse; the pair must be a size Fargate offers.', default: size(DEFAULT_TASK_SIZES.synapse) },
  'services.synapseAdmin': { meaning: 'Fargate size of the Synapse Admin UI.', default: size(DEFAULT_TASK_SIZES.synapseAdmin) },
  'services.mcpServer': { meaning: 'Fargate size of the MCP server.', default: size(DEFAULT_TASK_SIZES.mcpServer) },
  'services.hasura': { meaning: 'Fargate size of Hasura.', default: size(DEFAULT_TASK_SIZES.hasura) },
  'images.architecture': {
    meaning:
      'The platform every image is built for (`linux/arm64` or `linux/amd64`) and the CPU architecture of every Fargate task, always the same. Use `x86_64` on a deploying machine that cannot build arm64 images.',
  },
  'mcp.backendType': { meaning: 'Which backend the MCP tools use.' },
  'mcp.maxCount': { meaning: 'Autoscaling maximum of the MCP service (minimum 1).' },
  'synapse.adminApiAllowedCidrs': {
    meaning:
      "An optional extra on `/_synapse/admin/*`: only these source CIDRs, as the ALB sees them. Empty means from anywhere, behind Cognito sign-in at the ALB and Synapse's own admin check. Refused with `edge.provider: cloudflare`, where the ALB sees only Cloudflare.",
  },
  'synapse.historyRetentionDays': { meaning: 'The scheduled purge removes room history older than this.' },
  'synapse.signingKeySecretArn': {
    meaning:
      "Adopt an existing server's identity: a secret holding its signing key file line, `ed25519 <key_id> <unpadded base64 seed>`, which the image writes as it is (a malformed value stops the container with a message naming `SYNAPSE_SIGNING_KEY`). Unset: a seed is generated and the key derived from it, i.e. a new server identity.",
    default: 'unset (a new identity)',
  },
  'synapse.database.mode': {
    meaning:
      '`create`: the deploy makes the `synapse` role (generated password) and an empty database. `import` adopts an existing homeserver\'s database; the deploy only checks it (exists, UTF8/C, Synapse schema, users of `matrixServerName`, tables owned by the role) and changes nothing. Needs `database.mode: "import"`. See docs/operations.md, "Adopt the running homeserver".',
  },
  'synapse.database.name': { meaning: 'The adopted Synapse database.' },
  'synapse.database.secretArn': { meaning: 'JSON `username`/`password` of the role that owns the adopted tables, which Synapse then connects as.' },
  'synapse.workers.enabled': {
    meaning:
      "Run Synapse's workers beside the main process, each kind as its own Fargate service behind the ALB, replicating over ElastiCache for Valkey. One Synapse process is the ceiling of implementation A; workers are Synapse's way past it. Off: one process and no Redis, exactly the template without this key. Development stays one process, since it carries test traffic only and the workers and Redis would double its cost.",
    default: '`production`',
  },
  'synapse.workers.generic.minCount': {
    meaning: 'Fewest generic workers (sync, `/messages`, room and profile reads, login): the service scales on CPU between this and `maxCount`.',
    default: `${DEFAULT_SYNAPSE_WORKERS.generic.minCount} (so one can be replaced while the other serves)`,
  },
  'synapse.workers.generic.maxCount': {
    meaning: 'Most generic workers (at least `minCount`); each holds its own database pool, so the connection budget counts it.',
    default: `${DEFAULT_SYNAPSE_WORKERS.generic.maxCount}`,
  },
  'synapse.workers.federationSenders': {
    meaning: 'Federation senders (outbound federation), each its own one-task service; Synapse shards destinations over them (`federation_sender_instances`). 0 leaves sending to the main process.',
    default: `${DEFAULT_SYNAPSE_WORKERS.federationSenders}`,
  },
  'synapse.workers.mediaRepository': {
    meaning: 'The media repository worker (uploads, downloads, thumbnails to S3), 0 or 1: Synapse runs media background jobs on one named instance.',
    default: `${DEFAULT_SYNAPSE_WORKERS.mediaRepository}`,
  },
  'synapse.workers.eventPersisters': {
    meaning:
      'Event persisters (`stream_writers.events`), each its own one-task service with a Cloud Map name in `instance_map`. 0 keeps persisting on the main process, which is enough until writes, not reads, are the bottleneck. In production 1 or more does not fit one stack today: it takes the template past the CloudFormation limit of 500 resources (516 measured) and synth stops with TooManyResourcesInStack (docs/capacity.md).',
    default: `${DEFAULT_SYNAPSE_WORKERS.eventPersisters}`,
  },
  'synapse.workers.redis.nodeType': {
    meaning: 'ElastiCache node type of the replication Redis (Valkey). Replication traffic is small pub/sub, so a burstable Graviton node carries it.',
    default: `\`${DEFAULT_SYNAPSE_WORKERS.redis.nodeType}\``,
  },
  'synapse.workers.redis.replicas': { meaning: 'Read replicas of the Redis primary; 1 or more turns on Multi-AZ automatic failover.', default: '1 in production, 0 otherwise' },
  'linkPreview.phenomGraphqlUrl': { meaning: "The Phenom backend's GraphQL endpoint the link-preview Lambda asks for content metadata." },
  'linkPreview.phenomCredentialsSecretArn': { meaning: 'Secret with the Phenom API credentials; unset calls the API unauthenticated.' },
  'linkPreview.cacheTtlHours': { meaning: 'How long a resolved preview is served without asking upstream again.' },
  'linkPreview.previewUrlTemplate': { meaning: 'The URL stored in `link_previews.url`; https, with `{phenomId}` once.' },
  'monitoring.alarmEmail': { meaning: 'E-mail subscribed to the alarm topic.' },
  'monitoring.logRetentionDays': { meaning: 'Retention of every log group (a CloudWatch Logs value).', default: '30; 365 in production' },
  'edge.provider': {
    meaning:
      "What is in front of the ALB. `cloudflare` (seed 002's proxied record): Synapse takes the client address from `CF-Connecting-IP`, but only on requests the ALB received from Cloudflare's ranges. `none`: the address the ALB saw.",
    default: '`cloudflare` in production, `none` otherwise',
  },
  'edge.allowedCidrs': {
    meaning:
      "The only sources the ALB's security group lets in (443, and 80 for the redirect). IPv4 only, as the ALB is; at most 30, since each opens two ports and an SG holds 60 inbound rules. Created ALB only (`loadBalancer.mode: create`). With `cloudflare` the WAF rate rule counts `CF-Connecting-IP`, which a client reaching the ALB directly could forge or omit: this list is what shuts that path.",
    default: "Cloudflare's 15 published IPv4 ranges with `edge.provider: cloudflare`; `0.0.0.0/0` otherwise",
  },
  'waf.enabled': { meaning: 'Attach AWS WAF (managed common + known-bad-inputs rules, a per-IP rate rule) to the ALB.', default: '`production`' },
  'waf.ratePerIpPer5Min': { meaning: 'Requests per IP per 5 minutes before the rate rule blocks.' },
};

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
};

export interface ConfigKeyRow {
  readonly key: string;
  /** `create`, `import`, or both; empty for keys outside the create/import unions. */
  readonly modes: string[];
  readonly required: boolean;
  readonly type: string;
  readonly schemaDefault?: unknown;
}

function describeType(s: JsonSchema): string {
  if (s.enum) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf)!.map(describeType).join(' or ');
  if (s.type === 'array') {
    const bounds = [s.minItems !== undefined ? `at least ${s.minItems}` : '', s.maxItems !== undefined ? `at most ${s.maxItems}` : ''].filter(Boolean).join(', ');
    return `list of ${describeType(s.items ?? {})}${bounds ? ` (${bounds})` : ''}`;
  }
  if (s.type === 'integer' || s.type === 'number') {
    const range = s.minimum !== undefined && s.maximum !== undefined ? ` ${s.minimum}–${s.maximum}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : '';
    return `${s.type === 'integer' ? 'whole number' : 'number'}${range}`;
  }
  if (s.type === 'object') return 'object';
  if (s.format === 'email') return 'e-mail address';
  return typeof s.type === 'string' ? s.type : 'value';
}

/** Every documented key of the schema: the leaves, and objects documented as one key. */
export function configKeyRows(): ConfigKeyRow[] {
  const root = z.toJSONSchema(environmentConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = new Map<string, { modes: Set<string>; required: boolean; type: string; schemaDefault?: unknown }>();
  const visit = (s: JsonSchema, path: string[], required: boolean, mode?: string) => {
    const key = path.join('.');
    const variants = s.oneOf ?? s.anyOf;
    if (variants && variants.every((v) => v.properties?.mode?.const !== undefined)) {
      for (const v of variants) {
        const modeKey = [...path, 'mode'];
        visit({ ...v.properties!.mode!, default: s.default }, modeKey, false, String(v.properties!.mode!.const));
        visit({ ...v, properties: Object.fromEntries(Object.entries(v.properties!).filter(([k]) => k !== 'mode')) }, path, required, String(v.properties!.mode!.const));
      }
      return;
    }
    if (s.type === 'object' && s.properties && !(key in CONFIG_KEY_DOCS)) {
      for (const [name, child] of Object.entries(s.properties)) {
        visit(child, [...path, name], (s.required ?? []).includes(name) && child.default === undefined, mode);
      }
      return;
    }
    const row = rows.get(key) ?? { modes: new Set<string>(), required, type: describeType(s), schemaDefault: s.default };
    if (mode && !key.endsWith('.mode')) row.modes.add(mode);
    if (key.endsWith('.mode')) {
      if (s.default !== undefined) row.schemaDefault = s.default;
      row.type = [...new Set([...row.type.split(' or '), `\`${String(s.const)}\``])].filter((t) => t.startsWith('`')).join(' or ');
    }
    rows.set(key, row);
  };
  visit(root, [], false);
  return [...rows].map(([key, r]) => ({ key, modes: [...r.modes], required: r.required, type: r.type, schemaDefault: r.schemaDefault }));
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

function defaultText(row: ConfigKeyRow, doc: KeyDoc | undefined): string {
  if (doc?.default) return doc.default;
  if (row.schemaDefault !== undefined) {
    const v = row.schemaDefault;
    if (typeof v === 'object' && v !== null && 'mode' in v) return `\`${String((v as { mode: unknown }).mode)}\``;
    return `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
  }
  return row.required ? 'required' : 'unset';
}

/** The Markdown table README.md carries between its config-reference markers. */
export function renderConfigReference(): string {
  const lines = ['| key | mode | type | default | meaning |', '|---|---|---|---|---|'];
  for (const row of configKeyRows()) {
    const doc = CONFIG_KEY_DOCS[row.key];
    lines.push(`| \`${row.key}\` | ${row.modes.join(', ')} | ${cell(row.type)} | ${cell(defaultText(row, doc))} | ${cell(doc?.meaning ?? '')} |`);
  }
  return lines.join('\n');
}

export const CONFIG_REFERENCE_START = '<!-- config-reference:start (generated by npm run docs:config from lib/config) -->';
export const CONFIG_REFERENCE_END = '<!-- config-reference:end -->';

/** README.md with its config-reference block replaced by the generated table. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(CONFIG_REFERENCE_START);
  const end = readme.indexOf(CONFIG_REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${CONFIG_REFERENCE_START} … ${CONFIG_REFERENCE_END} block`);
  return `${readme.slice(0, start + CONFIG_REFERENCE_START.length)}\n${renderConfigReference()}\n${readme.slice(end)}`;
}
