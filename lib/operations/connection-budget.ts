import { parse } from 'yaml';
import { INSTANCE_MEMORY_GIB, INSTANCE_MEMORY_USABLE_FRACTION, postgresMaxConnections } from './thresholds';
import { readableId, references, scalableTargetOf } from './template-refs';

/**
 * The database connection budget, computed from a synthesized template alone: every client the RDS
 * security group lets in on 5432 is found through its security group (ECS services, Lambdas, hosted
 * rotations), so a service added later (a Synapse worker) is counted the day it is synthesized, and
 * a client nobody declared a pool for fails the budget instead of slipping past it.
 */

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> };
export interface BudgetTemplate {
  readonly Resources?: Record<string, Resource>;
}

/** The CloudFormation metadata key a connecting Lambda declares its connections per invocation under (ChatFunction writes it). */
export const CONNECTIONS_PER_INVOCATION_METADATA = 'phenom:databaseConnectionsPerInvocation';
const POSTGRES_PORT = 5432;

/**
 * Connection slots PostgreSQL and RDS keep from ordinary roles: superuser_reserved_connections (3,
 * PostgreSQL's default) and rds.rds_superuser_reserved_connections (2, RDS's default): what RDS's
 * "remaining connection slots are reserved for … rds_superuser connections" refusal is about.
 */
export const RDS_RESERVED_CONNECTIONS = 5;
/**
 * A hosted rotation (Secrets Manager's PostgreSQL rotation function) runs one step per invocation
 * and one rotation per secret at a time; a step opens at most two connections (the master or
 * current user, then the pending one in testSecret). Every schedule is counted as running at once.
 */
export const HOSTED_ROTATION_CONNECTIONS = 2;
/** Share of max_connections the clients may take: 20 % stays free for an operator's psql, a deploy's overlap and RDS itself. */
export const BUDGET_USABLE_FRACTION = 0.8;
/** Synapse's pool size when a database section names no cp_max (Twisted adbapi's ConnectionPool default). */
const SYNAPSE_DEFAULT_CP_MAX = 5;

export interface BudgetClient {
  /** The resource's logical id, readable. */
  readonly name: string;
  readonly kind: 'ECS service' | 'Lambda' | 'hosted rotation' | 'reserved';
  /** Connections one task or invocation holds. */
  readonly perUnit: number;
  /** Tasks or concurrent invocations at most. */
  readonly units: number;
  /** How perUnit and units were found, for a reader to check. */
  readonly how: string;
  readonly connections: number;
}

export interface ConnectionBudget {
  readonly instanceClass: string;
  /** max_connections: the parameter group's value, or RDS's default for the class. */
  readonly maxConnections: number;
  readonly maxConnectionsSource: string;
  /** What the clients may take (BUDGET_USABLE_FRACTION of max_connections). */
  readonly usable: number;
  /** Largest first. */
  readonly clients: readonly BudgetClient[];
  readonly total: number;
}

export interface BudgetOptions {
  /**
   * Hasura's source pool (pool_settings.max_connections of the metadata applied to it): the metadata
   * is not in the template (see lib/chat-hasura-lite/pools.ts, hasuraSourcePoolMax).
   */
  readonly hasuraSourcePoolMax: number;
}

/** RDS PostgreSQL's default max_connections for a class the app knows the memory of (postgresMaxConnections); refuses any other. */
export function defaultMaxConnections(instanceClass: string): number {
  if (INSTANCE_MEMORY_GIB[instanceClass] === undefined) throw new Error(`no memory figure for ${instanceClass}: add it to INSTANCE_MEMORY_GIB in lib/operations/thresholds.ts`);
  return postgresMaxConnections(instanceClass);
}

const getAttTarget = (value: unknown): string | undefined => {
  const v = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  return v?.['Fn::GetAtt']?.[0] ?? v?.Ref;
};
const positiveInt = (value: unknown, what: string): number => {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`${what}: expected a whole number, got ${JSON.stringify(value)}`);
  return n;
};
const coversPostgres = (rule: Record<string, unknown>): boolean => {
  if (rule.IpProtocol === '-1') return true;
  const from = Number(rule.FromPort);
  const to = Number(rule.ToPort ?? rule.FromPort);
  return from <= POSTGRES_PORT && POSTGRES_PORT <= to;
};

/** The logical ids of the security groups the RDS security group lets in on 5432. */
function clientSecurityGroups(resources: [string, Resource][], databaseSgs: string[]): string[] {
  const found = new Set<string>();
  for (const [, r] of resources) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::EC2::SecurityGroupIngress' && databaseSgs.some((sg) => references(p.GroupId, sg)) && coversPostgres(p)) {
      const source = getAttTarget(p.SourceSecurityGroupId);
      if (source) found.add(source);
    }
  }
  for (const sg of databaseSgs) {
    const inline = (Object.fromEntries(resources)[sg]?.Properties?.SecurityGroupIngress ?? []) as Record<string, unknown>[];
    for (const rule of inline) {
      const source = getAttTarget(rule.SourceSecurityGroupId);
      if (source && coversPostgres(rule)) found.add(source);
    }
  }
  return [...found];
}

/** Σ cp_max over the database sections of one Synapse config (main process or worker). */
export function synapsePoolMax(configYaml: string, where: string): number {
  let config: { database?: { args?: { cp_max?: unknown } }; databases?: Record<string, { args?: { cp_max?: unknown } }> };
  try {
    config = parse(configYaml) as typeof config;
  } catch (err) {
    throw new Error(`${where}: SYNAPSE_CONFIG_YAML is not YAML (${(err as Error).message})`, { cause: err });
  }
  const sections = config?.databases ? Object.values(config.databases) : config?.database ? [config.database] : [];
  if (sections.length === 0) throw new Error(`${where}: SYNAPSE_CONFIG_YAML has no database section, yet the task is let into the database`);
  return sections.reduce((sum, db) => sum + (db.args?.cp_max === undefined ? SYNAPSE_DEFAULT_CP_MAX : positiveInt(db.args.cp_max, `${where}: cp_max`)), 0);
}

/** A template string value, with the tokens of an Fn::Join or Fn::Sub left as placeholders. */
function plainText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (join) return join[1].map((part) => (typeof part === 'string' ? part : '0')).join(join[0]);
  return undefined;
}

/** Connections one task of a task definition holds, from its containers' environments. */
function connectionsPerTask(taskId: string, task: Resource, options: BudgetOptions): { perTask: number; how: string } {
  const containers = (task.Properties?.ContainerDefinitions ?? []) as { Name?: string; Environment?: { Name: string; Value: unknown }[] }[];
  let perTask = 0;
  const how: string[] = [];
  for (const c of containers) {
    const env = new Map((c.Environment ?? []).map((e) => [e.Name, e.Value]));
    const where = `${readableId(taskId)}/${c.Name}`;
    if (env.has('SYNAPSE_CONFIG_YAML')) {
      const text = plainText(env.get('SYNAPSE_CONFIG_YAML'));
      if (text === undefined) throw new Error(`${where}: SYNAPSE_CONFIG_YAML is not a string in the template`);
      const n = synapsePoolMax(text, where);
      perTask += n;
      how.push(`${c.Name}: cp_max ${n}`);
    }
    if (env.has('HASURA_GRAPHQL_PG_CONNECTIONS')) {
      const metadataPool = positiveInt(env.get('HASURA_GRAPHQL_PG_CONNECTIONS'), `${where}: HASURA_GRAPHQL_PG_CONNECTIONS`);
      perTask += metadataPool + options.hasuraSourcePoolMax;
      how.push(`${c.Name}: source pool ${options.hasuraSourcePoolMax} + metadata pool ${metadataPool} (HASURA_GRAPHQL_PG_CONNECTIONS)`);
    }
    if (env.has('PG_POOL_MAX')) {
      // The MCP server's postgres backend keeps a one-connection pool for /health beside its query pool.
      const n = positiveInt(env.get('PG_POOL_MAX'), `${where}: PG_POOL_MAX`);
      perTask += n + 1;
      how.push(`${c.Name}: PG_POOL_MAX ${n} + 1 health`);
    }
  }
  return { perTask, how: how.join('; ') };
}

/**
 * Every database client of the template and what it may hold at once. Throws when a client's pool
 * or cap cannot be read: a Lambda without reserved concurrency, a Lambda or service without a
 * declared pool.
 */
export function databaseClients(template: BudgetTemplate, options: BudgetOptions): BudgetClient[] {
  const resources = Object.entries(template.Resources ?? {});
  const byId = new Map(resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const instances = ofType('AWS::RDS::DBInstance');
  const databaseSgs = instances.flatMap(([, db]) => ((db.Properties?.VPCSecurityGroups ?? []) as unknown[]).map(getAttTarget).filter((id): id is string => !!id));
  const clients: BudgetClient[] = [];
  const problems: string[] = [];
  // A resource in two of the let-in groups is one client.
  const counted = new Set<string>();
  const once = (id: string) => !counted.has(id) && !!counted.add(id);

  for (const sg of clientSecurityGroups(resources, databaseSgs)) {
    for (const [id, service] of ofType('AWS::ECS::Service')) {
      const p = service.Properties ?? {};
      if (!references((p.NetworkConfiguration as { AwsvpcConfiguration?: { SecurityGroups?: unknown } } | undefined)?.AwsvpcConfiguration?.SecurityGroups, sg) || !once(id)) continue;
      const taskId = getAttTarget(p.TaskDefinition);
      const task = taskId ? byId.get(taskId) : undefined;
      if (!taskId || !task) {
        problems.push(`${readableId(id)}: its TaskDefinition is not a Ref to a task definition in the template`);
        continue;
      }
      const { perTask, how } = connectionsPerTask(taskId, task, options);
      if (perTask === 0) {
        problems.push(`${readableId(id)} is let into the database but none of its containers declares a pool (SYNAPSE_CONFIG_YAML cp_max, HASURA_GRAPHQL_PG_CONNECTIONS or PG_POOL_MAX)`);
        continue;
      }
      const scaling = scalableTargetOf(resources, id);
      const steady = scaling ? positiveInt(scaling[1].Properties?.MaxCapacity, `${scaling[0]}.MaxCapacity`) : positiveInt(p.DesiredCount ?? 1, `${id}.DesiredCount`);
      // A rolling deploy starts the new tasks before it stops the old: up to MaximumPercent of the count run at once.
      const maxPercent = positiveInt((p.DeploymentConfiguration as { MaximumPercent?: unknown } | undefined)?.MaximumPercent ?? 200, `${id}.MaximumPercent`);
      const units = Math.max(steady, Math.ceil((steady * maxPercent) / 100));
      clients.push({
        name: readableId(id),
        kind: 'ECS service',
        perUnit: perTask,
        units,
        how: `${how}; ${scaling ? `MaxCapacity ${steady}` : `DesiredCount ${steady}`} × ${maxPercent} % during a deploy`,
        connections: perTask * units,
      });
    }
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const p = fn.Properties ?? {};
      if (!references((p.VpcConfig as { SecurityGroupIds?: unknown } | undefined)?.SecurityGroupIds, sg) || !once(id)) continue;
      const declared = fn.Metadata?.[CONNECTIONS_PER_INVOCATION_METADATA];
      if (declared === undefined) {
        problems.push(`Lambda ${readableId(id)} is let into the database but declares no connections per invocation (ChatFunction's databaseConnections)`);
        continue;
      }
      if (p.ReservedConcurrentExecutions === undefined) {
        problems.push(
          `Lambda ${readableId(id)} connects to the database with no concurrency cap: cap it (ChatFunction's databaseConnections.reservedConcurrency) so a burst cannot exhaust max_connections`,
        );
        continue;
      }
      const perUnit = positiveInt(declared, `${id} ${CONNECTIONS_PER_INVOCATION_METADATA}`);
      const units = positiveInt(p.ReservedConcurrentExecutions, `${id}.ReservedConcurrentExecutions`);
      clients.push({ name: readableId(id), kind: 'Lambda', perUnit, units, how: `${perUnit} per invocation × reserved concurrency ${units}`, connections: perUnit * units });
    }
    for (const [id, schedule] of ofType('AWS::SecretsManager::RotationSchedule')) {
      const hosted = schedule.Properties?.HostedRotationLambda as { VpcSecurityGroupIds?: unknown; RotationType?: string } | undefined;
      if (!hosted || !references(hosted.VpcSecurityGroupIds, sg) || !once(id)) continue;
      clients.push({
        name: readableId(id),
        kind: 'hosted rotation',
        perUnit: HOSTED_ROTATION_CONNECTIONS,
        units: 1,
        how: `${hosted.RotationType ?? 'rotation'}: one step at a time, ${HOSTED_ROTATION_CONNECTIONS} connections at most`,
        connections: HOSTED_ROTATION_CONNECTIONS,
      });
    }
  }
  if (problems.length > 0) throw new Error(`connection budget: ${problems.join('; ')}`);
  if (instances.length > 0) {
    clients.push({
      name: 'RDS reserved slots',
      kind: 'reserved',
      perUnit: RDS_RESERVED_CONNECTIONS,
      units: 1,
      how: 'superuser_reserved_connections 3 + rds.rds_superuser_reserved_connections 2',
      connections: RDS_RESERVED_CONNECTIONS,
    });
  }
  return clients.sort((a, b) => b.connections - a.connections);
}

/** The budget of a template that creates its database instance (one instance: the app's one chat database). */
export function connectionBudget(template: BudgetTemplate, options: BudgetOptions): ConnectionBudget {
  const resources = template.Resources ?? {};
  const instances = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::RDS::DBInstance');
  if (instances.length !== 1) throw new Error(`connection budget: expected the template to create one RDS instance, found ${instances.length} (an imported database is budgeted by its owner)`);
  const [, instance] = instances[0];
  const instanceClass = String(instance.Properties?.DBInstanceClass);
  const groupId = getAttTarget(instance.Properties?.DBParameterGroupName);
  const explicit = groupId ? (resources[groupId]?.Properties?.Parameters as Record<string, unknown> | undefined)?.max_connections : undefined;
  const maxConnections = explicit !== undefined ? positiveInt(explicit, `${groupId} max_connections`) : defaultMaxConnections(instanceClass);
  const maxConnectionsSource =
    explicit !== undefined
      ? `max_connections ${maxConnections} in the parameter group`
      : `RDS default for ${instanceClass}: LEAST(DBInstanceClassMemory/9531392, 5000), memory taken as ${INSTANCE_MEMORY_USABLE_FRACTION * 100} % of ${INSTANCE_MEMORY_GIB[instanceClass]} GiB`;
  const clients = databaseClients(template, options);
  return {
    instanceClass,
    maxConnections,
    maxConnectionsSource,
    usable: Math.floor(maxConnections * BUDGET_USABLE_FRACTION),
    clients,
    total: clients.reduce((sum, c) => sum + c.connections, 0),
  };
}

/** Throws, naming the largest clients, when the budget takes more than its usable share of max_connections. */
export function assertWithinBudget(budget: ConnectionBudget, label: string): void {
  if (budget.total <= budget.usable) return;
  const largest = budget.clients
    .slice(0, 3)
    .map((c) => `${c.name} ${c.connections} (${c.perUnit} × ${c.units})`)
    .join(', ');
  throw new Error(
    `${label}: the database clients may hold ${budget.total} connections, over the ${budget.usable} allowed (${BUDGET_USABLE_FRACTION * 100} % of max_connections ${budget.maxConnections} on ${budget.instanceClass}). ` +
      `Largest: ${largest}. Lower a pool or a maximum task count, cap a Lambda's concurrency, or move to a larger instance class.`,
  );
}

/** The budget as a Markdown table, for `npm run budget` and docs/capacity.md. */
export function formatBudget(title: string, budget: ConnectionBudget): string {
  const free = budget.maxConnections - budget.total;
  const lines = [
    `### ${title}: ${budget.total} of ${budget.maxConnections} connections (${Math.round((100 * budget.total) / budget.maxConnections)} %), limit ${budget.usable}`,
    '',
    `max_connections: ${budget.maxConnectionsSource}.`,
    '',
    '| client | kind | how | connections |',
    '|---|---|---|---:|',
    ...budget.clients.map((c) => `| ${c.name} | ${c.kind} | ${c.how} | ${c.connections} |`),
    `| **total** | | ${free} free | **${budget.total}** |`,
  ];
  return lines.join('\n');
}
