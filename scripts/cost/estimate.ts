import { readableId, references, scalableTargetOf } from '../../lib/operations/template-refs';
import { PRICE_TABLE, UsageAssumptions } from './prices';

/** A CloudFormation template as `cdk synth` writes it. */
export interface CfnTemplate {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export type CostCategory = 'Fargate' | 'RDS' | 'ElastiCache' | 'Cloud Map' | 'Load balancer' | 'NAT gateway' | 'Public IPv4' | 'Lambda' | 'WAF' | 'Secrets Manager' | 'CloudWatch' | 'KMS';

export interface CostItem {
  readonly category: CostCategory;
  /** What is priced: a service, instance, function, … */
  readonly name: string;
  /** The quantities the price was computed from, for a reader to redo the sum. */
  readonly detail: string;
  readonly monthlyUsd: number;
}

export interface CostEstimate {
  readonly items: CostItem[];
  readonly totalUsd: number;
  /** Things the template shows but the estimate leaves out, with why. */
  readonly notes: string[];
}

type Resource = { Type: string; Properties?: Record<string, unknown> };
const P = PRICE_TABLE;
const H = P.hoursPerMonth;

const num = (value: unknown, what: string): number => {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what}: expected a number in the template, got ${JSON.stringify(value)}`);
  return n;
};

/**
 * Prices a synthesized template with PRICE_TABLE and the usage assumptions.
 * Only resources the template creates are priced: anything imported by config
 * (an existing RDS, ALB, VPC) costs nothing *here* and is listed in the notes.
 */
export function estimateMonthlyCost(template: CfnTemplate, usage: UsageAssumptions): CostEstimate {
  const resources = Object.entries(template.Resources ?? {});
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const items: CostItem[] = [];
  const notes: string[] = [];

  items.push(...fargate(resources, ofType));
  items.push(...rds(ofType('AWS::RDS::DBInstance')));
  items.push(...elastiCache(ofType, usage));
  const namespaces = ofType('AWS::ServiceDiscovery::PrivateDnsNamespace').length;
  if (namespaces > 0) {
    items.push({
      category: 'Cloud Map',
      name: `${namespaces} private DNS namespace${namespaces > 1 ? 's' : ''}`,
      detail: `${namespaces} Route 53 private hosted zone${namespaces > 1 ? 's' : ''} × $${P.cloudMap.perPrivateNamespaceMonth}`,
      monthlyUsd: namespaces * P.cloudMap.perPrivateNamespaceMonth,
    });
  }

  for (const [id, lb] of ofType('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
    const hourly = P.alb.perHour + usage.albAverageLcus * P.alb.perLcuHour;
    items.push({
      category: 'Load balancer',
      name: readableId(id),
      detail: `${H} h × ($${P.alb.perHour}/h + ${usage.albAverageLcus} LCU × $${P.alb.perLcuHour}/LCU-h)`,
      monthlyUsd: hourly * H,
    });
    if (lb.Properties?.Scheme !== 'internal') {
      const addresses = Array.isArray(lb.Properties?.Subnets) ? lb.Properties.Subnets.length : 2;
      items.push(publicIpv4(`${readableId(id)} (one per AZ)`, addresses));
    }
  }
  if (ofType('AWS::ElasticLoadBalancingV2::LoadBalancer').length === 0) notes.push('No load balancer in the template (imported by config): not priced.');

  const nats = ofType('AWS::EC2::NatGateway');
  if (nats.length > 0) {
    items.push({
      category: 'NAT gateway',
      name: `${nats.length} NAT gateway${nats.length > 1 ? 's' : ''}`,
      detail: `${nats.length} × ${H} h × $${P.nat.perHour}/h + ${usage.natGbPerMonth} GB × $${P.nat.perGbProcessed}/GB`,
      monthlyUsd: nats.length * H * P.nat.perHour + usage.natGbPerMonth * P.nat.perGbProcessed,
    });
    items.push(publicIpv4('NAT gateway Elastic IPs', ofType('AWS::EC2::EIP').length));
  } else {
    notes.push('No NAT gateway in the template (imported VPC): not priced.');
  }

  items.push(...lambdas(resources, ofType, usage));

  for (const [id, acl] of ofType('AWS::WAFv2::WebACL')) {
    const rules = Array.isArray(acl.Properties?.Rules) ? acl.Properties.Rules.length : 0;
    const requestsM = usage.requestsPerMonth / 1e6;
    items.push({
      category: 'WAF',
      name: readableId(id),
      detail: `$${P.waf.perWebAclMonth} + ${rules} rules × $${P.waf.perRuleMonth} + ${requestsM}M requests × $${P.waf.perMillionRequests}/M`,
      monthlyUsd: P.waf.perWebAclMonth + rules * P.waf.perRuleMonth + requestsM * P.waf.perMillionRequests,
    });
  }

  const secrets = ofType('AWS::SecretsManager::Secret').length;
  if (secrets > 0) {
    items.push({
      category: 'Secrets Manager',
      name: `${secrets} secret${secrets > 1 ? 's' : ''}`,
      detail: `${secrets} × $${P.secretsManager.perSecretMonth} + ${usage.secretsApiCallsPerMonth / 1e4} × 10k calls × $${P.secretsManager.per10kApiCalls}`,
      monthlyUsd: secrets * P.secretsManager.perSecretMonth + (usage.secretsApiCallsPerMonth / 1e4) * P.secretsManager.per10kApiCalls,
    });
  }

  items.push(...cloudWatch(ofType, usage));

  const keys = ofType('AWS::KMS::Key').length;
  if (keys > 0) {
    items.push({ category: 'KMS', name: `${keys} customer-managed key${keys > 1 ? 's' : ''}`, detail: `${keys} × $${P.kms.perKeyMonth}`, monthlyUsd: keys * P.kms.perKeyMonth });
  }

  notes.push(
    'Not priced: data transfer out, S3 (ALB access logs), Cognito (Essentials: first 10,000 monthly active users free), ' +
      'Container Insights and custom metrics, RDS backup storage beyond the free allowance (equal to the DB size), Performance Insights (7-day free tier).',
  );
  const totalUsd = items.reduce((sum, i) => sum + i.monthlyUsd, 0);
  return { items, totalUsd, notes };
}

function publicIpv4(name: string, addresses: number): CostItem {
  return {
    category: 'Public IPv4',
    name,
    detail: `${addresses} address${addresses === 1 ? '' : 'es'} × ${H} h × $${P.publicIpv4.perAddressHour}/h`,
    monthlyUsd: addresses * H * P.publicIpv4.perAddressHour,
  };
}

function fargate(resources: [string, Resource][], ofType: (t: string) => [string, Resource][]): CostItem[] {
  const byId = new Map(resources);
  const items: CostItem[] = [];
  for (const [id, service] of ofType('AWS::ECS::Service')) {
    const props = service.Properties ?? {};
    if (props.LaunchType !== undefined && props.LaunchType !== 'FARGATE') continue;
    const taskRef = (props.TaskDefinition as { Ref?: string } | undefined)?.Ref;
    const task = taskRef ? byId.get(taskRef) : undefined;
    if (!task) throw new Error(`ECS service ${id}: its TaskDefinition is not a Ref to a task definition in the template`);
    const tp = task.Properties ?? {};
    const vcpu = num(tp.Cpu, `${taskRef}.Cpu`) / 1024;
    const gb = num(tp.Memory, `${taskRef}.Memory`) / 1024;
    const arch = ((tp.RuntimePlatform as { CpuArchitecture?: string } | undefined)?.CpuArchitecture ?? 'X86_64') as keyof typeof P.fargate;
    const price = P.fargate[arch];
    if (!price) throw new Error(`${taskRef}: unknown CPU architecture ${arch}`);
    // With auto scaling, the minimum is what runs all month; bursts above it are not priced.
    const scaling = scalableTargetOf(resources, id);
    const desired = props.DesiredCount === undefined ? 1 : num(props.DesiredCount, `${id}.DesiredCount`);
    const minTasks = scaling ? num(scaling[1].Properties?.MinCapacity, `${scaling[0]}.MinCapacity`) : desired;
    const tasks = Math.max(desired, minTasks);
    const maxNote = scaling ? ` (scales to ${num(scaling[1].Properties?.MaxCapacity, `${scaling[0]}.MaxCapacity`)})` : '';
    const name = typeof props.ServiceName === 'string' ? props.ServiceName : readableId(id);
    items.push({
      category: 'Fargate',
      name,
      detail: `${tasks} task${tasks > 1 ? 's' : ''}${maxNote} × ${H} h × (${vcpu} vCPU × $${price.perVcpuHour} + ${gb} GB × $${price.perGbHour}) ${arch}`,
      monthlyUsd: tasks * H * (vcpu * price.perVcpuHour + gb * price.perGbHour),
    });
  }
  return items;
}

function rds(instances: [string, Resource][]): CostItem[] {
  return instances.map(([id, db]) => {
    const props = db.Properties ?? {};
    const cls = String(props.DBInstanceClass);
    const hourly = P.rds.postgresInstanceHour[cls];
    if (hourly === undefined) {
      throw new Error(`RDS ${id}: no price for instance class ${cls}; add it to PRICE_TABLE.rds.postgresInstanceHour in scripts/cost/prices.ts`);
    }
    const multiAz = props.MultiAZ === true || props.MultiAZ === 'true';
    const factor = multiAz ? P.rds.multiAzMultiplier : 1;
    const storageGb = num(props.AllocatedStorage ?? 20, `${id}.AllocatedStorage`);
    const storageType = String(props.StorageType ?? 'gp2');
    const perGb = storageType === 'gp3' ? P.rds.gp3PerGbMonth : P.rds.gp2PerGbMonth;
    return {
      category: 'RDS' as const,
      name: `${cls} PostgreSQL${multiAz ? ' Multi-AZ' : ' Single-AZ'}`,
      detail: `${H} h × $${hourly}/h${multiAz ? ' × 2' : ''} + ${storageGb} GB ${storageType} × $${perGb}/GB${multiAz ? ' × 2' : ''}`,
      monthlyUsd: factor * (H * hourly + storageGb * perGb),
    };
  });
}

function nodePrice(id: string, nodeType: unknown, engine: unknown): { hourly: number; label: string } {
  const redisHourly = P.elastiCache.nodeHour[String(nodeType)];
  if (redisHourly === undefined) throw new Error(`ElastiCache ${id}: no price for node type ${String(nodeType)}; add it to PRICE_TABLE.elastiCache.nodeHour in scripts/cost/prices.ts`);
  const valkey = String(engine ?? 'redis').toLowerCase() === 'valkey';
  return { hourly: valkey ? redisHourly * P.elastiCache.valkeyDiscount : redisHourly, label: valkey ? 'Valkey' : 'Redis OSS' };
}

/** Node-based replication groups and clusters by node type and count; serverless caches at their minimum storage plus ECPUs. */
function elastiCache(ofType: (t: string) => [string, Resource][], usage: UsageAssumptions): CostItem[] {
  const items: CostItem[] = [];
  for (const [id, group] of ofType('AWS::ElastiCache::ReplicationGroup')) {
    const p = group.Properties ?? {};
    const shards = p.NumNodeGroups === undefined ? 1 : num(p.NumNodeGroups, `${id}.NumNodeGroups`);
    const nodes =
      p.NumCacheClusters !== undefined
        ? num(p.NumCacheClusters, `${id}.NumCacheClusters`)
        : shards * (1 + (p.ReplicasPerNodeGroup === undefined ? 0 : num(p.ReplicasPerNodeGroup, `${id}.ReplicasPerNodeGroup`)));
    const { hourly, label } = nodePrice(id, p.CacheNodeType, p.Engine);
    items.push({ category: 'ElastiCache', name: `${readableId(id)} (${label})`, detail: `${nodes} × ${String(p.CacheNodeType)} × ${H} h × $${hourly.toFixed(4)}/h`, monthlyUsd: nodes * H * hourly });
  }
  for (const [id, cluster] of ofType('AWS::ElastiCache::CacheCluster')) {
    const p = cluster.Properties ?? {};
    const nodes = num(p.NumCacheNodes ?? 1, `${id}.NumCacheNodes`);
    const { hourly, label } = nodePrice(id, p.CacheNodeType, p.Engine);
    items.push({ category: 'ElastiCache', name: `${readableId(id)} (${label})`, detail: `${nodes} × ${String(p.CacheNodeType)} × ${H} h × $${hourly.toFixed(4)}/h`, monthlyUsd: nodes * H * hourly });
  }
  for (const [id, cache] of ofType('AWS::ElastiCache::ServerlessCache')) {
    const engine = String(cache.Properties?.Engine ?? 'redis').toLowerCase() === 'valkey' ? 'valkey' : 'redis';
    const price = P.elastiCache.serverless[engine];
    const ecpuM = (usage.cacheEcpuPerMonth ?? 0) / 1e6;
    items.push({
      category: 'ElastiCache',
      name: `${readableId(id)} (serverless ${engine})`,
      detail: `${price.minimumGb} GB minimum × ${H} h × $${price.perGbHour}/GB-h + ${ecpuM}M ECPU × $${price.perMillionEcpu}/M`,
      monthlyUsd: price.minimumGb * H * price.perGbHour + ecpuM * price.perMillionEcpu,
    });
  }
  return items;
}

/** Runs per month of an EventBridge schedule: rate(N unit) exactly; a cron with fixed minute and hour is daily. */
export function runsPerMonth(scheduleExpression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(scheduleExpression);
  if (rate) {
    const perHour = { minute: 60, minutes: 60, hour: 1, hours: 1, day: 1 / 24, days: 1 / 24 }[rate[2]]!;
    return (H * perHour) / Number(rate[1]);
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(scheduleExpression);
  if (cron && /^\d+$/.test(cron[1]) && /^\d+$/.test(cron[2]) && ['*', '?'].includes(cron[3]) && ['*', '?'].includes(cron[5])) return H / 24;
  throw new Error(`cannot count the runs of schedule ${scheduleExpression}; extend runsPerMonth in scripts/cost/estimate.ts`);
}

function lambdas(resources: [string, Resource][], ofType: (t: string) => [string, Resource][], usage: UsageAssumptions): CostItem[] {
  const functions = ofType('AWS::Lambda::Function');
  // Deploy-time functions (custom-resource handlers and the CDK provider framework
  // around them) run a few times per deploy: they cost nothing worth pricing.
  const deployTime = new Set<string>();
  const customResources = resources.filter(([, r]) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource');
  for (const [id, fn] of functions) {
    const description = String(fn.Properties?.Description ?? '');
    if (description.startsWith('AWS CDK resource provider framework') || customResources.some(([, cr]) => references(cr.Properties?.ServiceToken, id))) {
      deployTime.add(id);
    }
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const [id] of functions) {
      if (deployTime.has(id)) continue;
      if ([...deployTime].some((d) => references(functions.find(([f]) => f === d)?.[1].Properties?.Environment, id))) {
        deployTime.add(id);
        grew = true;
      }
    }
  }

  const items: CostItem[] = [];
  let deployOnly = 0;
  for (const [id, fn] of functions) {
    if (deployTime.has(id)) {
      deployOnly++;
      continue;
    }
    const props = fn.Properties ?? {};
    const memoryGb = num(props.MemorySize ?? 128, `${id}.MemorySize`) / 1024;
    const arch = Array.isArray(props.Architectures) && props.Architectures[0] === 'arm64' ? 'arm64' : 'x86_64';
    const schedule = ofType('AWS::Events::Rule').find(([, rule]) => typeof rule.Properties?.ScheduleExpression === 'string' && references(rule.Properties?.Targets, id));
    const invocations = schedule ? runsPerMonth(String(schedule[1].Properties!.ScheduleExpression)) : usage.lambdaInvocationsPerFunction;
    const ms = schedule ? usage.scheduledLambdaAverageMs : usage.lambdaAverageMs;
    const gbSeconds = invocations * (ms / 1000) * memoryGb;
    const perGbS = P.lambda.perGbSecond[arch];
    items.push({
      category: 'Lambda',
      name: readableId(id),
      detail: `${Math.round(invocations).toLocaleString('en-US')} invocations${schedule ? ' (schedule)' : ''} × ${ms} ms × ${memoryGb} GB × $${perGbS}/GB-s ${arch} + requests × $${P.lambda.perMillionRequests}/M`,
      monthlyUsd: gbSeconds * perGbS + (invocations / 1e6) * P.lambda.perMillionRequests,
    });
  }
  if (deployOnly > 0) {
    items.push({ category: 'Lambda', name: `${deployOnly} deploy-time functions`, detail: 'custom-resource handlers: run only during deploys', monthlyUsd: 0 });
  }
  return items;
}

function cloudWatch(ofType: (t: string) => [string, Resource][], usage: UsageAssumptions): CostItem[] {
  const items: CostItem[] = [];
  const alarms = ofType('AWS::CloudWatch::Alarm');
  if (alarms.length > 0) {
    // A metric-math alarm is billed per metric it reads, not per expression.
    const metrics = alarms.reduce((sum, [, a]) => {
      const m = a.Properties?.Metrics;
      return sum + (Array.isArray(m) ? Math.max(1, m.filter((q: { MetricStat?: unknown }) => q.MetricStat !== undefined).length) : 1);
    }, 0);
    items.push({
      category: 'CloudWatch',
      name: `${alarms.length} alarms`,
      detail: `${metrics} alarm metrics × $${P.cloudWatch.perAlarmMetricMonth}`,
      monthlyUsd: metrics * P.cloudWatch.perAlarmMetricMonth,
    });
  }
  const composites = ofType('AWS::CloudWatch::CompositeAlarm').length;
  if (composites > 0) {
    items.push({
      category: 'CloudWatch',
      name: `${composites} composite alarms`,
      detail: `${composites} × $${P.cloudWatch.perCompositeAlarmMonth}`,
      monthlyUsd: composites * P.cloudWatch.perCompositeAlarmMonth,
    });
  }
  const dashboards = ofType('AWS::CloudWatch::Dashboard').length;
  if (dashboards > 0) {
    items.push({
      category: 'CloudWatch',
      name: `${dashboards} dashboard${dashboards > 1 ? 's' : ''}`,
      detail: `${dashboards} × $${P.cloudWatch.perDashboardMonth}`,
      monthlyUsd: dashboards * P.cloudWatch.perDashboardMonth,
    });
  }
  const logGroups = ofType('AWS::Logs::LogGroup');
  if (logGroups.length > 0) {
    // Steady state: what is kept is a retention period's worth of ingestion (capped at a year).
    const retentions = logGroups.map(([, g]) => num(g.Properties?.RetentionInDays ?? 365, 'RetentionInDays'));
    const retentionDays = Math.min(365, Math.max(...retentions));
    const storedGb = usage.logsGbPerMonth * (retentionDays / (H / 24));
    items.push({
      category: 'CloudWatch',
      name: `Logs (${logGroups.length} log groups)`,
      detail:
        `${usage.logsGbPerMonth} GB ingested × $${P.cloudWatch.logsIngestionPerGb}/GB + ` +
        `${storedGb.toFixed(1)} GB stored (${retentionDays}-day retention) × $${P.cloudWatch.logsStoragePerGbMonth}/GB-month`,
      monthlyUsd: usage.logsGbPerMonth * P.cloudWatch.logsIngestionPerGb + storedGb * P.cloudWatch.logsStoragePerGbMonth,
    });
  }
  return items;
}
