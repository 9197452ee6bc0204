/**
 * THE unit-price table of `npm run cost`: AWS on-demand list prices for
 * us-east-1 (N. Virginia), Linux, in USD. Every figure the estimate uses comes
 * from here, so a price change is a one-line edit.
 *
 * Sources (one per service), as published on these pages; figures recorded from
 * the 2025 price lists. This repository's build machine has no internet access,
 * so they were not re-fetched on the day the script was written (2026-11-21):
 * check the pages before quoting a figure in a budget.
 * - Fargate:          https://aws.amazon.com/fargate/pricing/
 * - RDS PostgreSQL:   https://aws.amazon.com/rds/postgresql/pricing/
 * - ALB:              https://aws.amazon.com/elasticloadbalancing/pricing/
 * - NAT, public IPv4: https://aws.amazon.com/vpc/pricing/
 * - Lambda:           https://aws.amazon.com/lambda/pricing/
 * - WAF:              https://aws.amazon.com/waf/pricing/
 * - Secrets Manager:  https://aws.amazon.com/secrets-manager/pricing/
 * - CloudWatch:       https://aws.amazon.com/cloudwatch/pricing/
 * - KMS:              https://aws.amazon.com/kms/pricing/
 * - ElastiCache:      https://aws.amazon.com/elasticache/pricing/ (node-based, Valkey: 20% below Redis OSS)
 *
 * Free tiers are ignored on purpose: the estimate is what the environment costs
 * in an account that has already used them.
 */
export const PRICE_TABLE = {
  region: 'us-east-1',
  recorded: '2025 AWS list prices (see sources above)',
  /** Hours in a billing month, as AWS's own calculator uses. */
  hoursPerMonth: 730,
  fargate: {
    X86_64: { perVcpuHour: 0.04048, perGbHour: 0.004445 },
    ARM64: { perVcpuHour: 0.03238, perGbHour: 0.00356 },
  },
  rds: {
    /** Single-AZ instance-hour; a Multi-AZ (one standby) deployment costs twice this. */
    postgresInstanceHour: {
      'db.t3.micro': 0.018,
      'db.t3.small': 0.036,
      'db.t3.medium': 0.072,
      'db.t3.large': 0.145,
      'db.t4g.micro': 0.016,
      'db.t4g.small': 0.032,
      'db.t4g.medium': 0.065,
      'db.t4g.large': 0.129,
      'db.m5.large': 0.178,
      'db.m5.xlarge': 0.356,
      'db.m5.2xlarge': 0.712,
      'db.m6g.large': 0.159,
      'db.m6g.xlarge': 0.318,
      'db.m6i.large': 0.178,
      'db.m7g.large': 0.168,
      'db.r5.large': 0.25,
      'db.r6g.large': 0.225,
    } as Record<string, number>,
    multiAzMultiplier: 2,
    /** gp3 storage per GB-month (Single-AZ; Multi-AZ doubles it). */
    gp3PerGbMonth: 0.115,
    /** gp2 storage per GB-month (Single-AZ; Multi-AZ doubles it). */
    gp2PerGbMonth: 0.115,
  },
  elasticache: {
    /** Valkey node-hour, on demand; every node (primary and each replica) is billed. */
    valkeyNodeHour: {
      'cache.t4g.micro': 0.0128,
      'cache.t4g.small': 0.0256,
      'cache.t4g.medium': 0.052,
      'cache.m7g.large': 0.1264,
      'cache.r7g.large': 0.1752,
    } as Record<string, number>,
  },
  alb: { perHour: 0.0225, perLcuHour: 0.008 },
  nat: { perHour: 0.045, perGbProcessed: 0.045 },
  publicIpv4: { perAddressHour: 0.005 },
  lambda: {
    perGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
    perMillionRequests: 0.2,
  },
  waf: { perWebAclMonth: 5, perRuleMonth: 1, perMillionRequests: 0.6 },
  secretsManager: { perSecretMonth: 0.4, per10kApiCalls: 0.05 },
  cloudWatch: {
    /** Standard-resolution alarm, per metric it evaluates (a math alarm pays per metric in it). */
    perAlarmMetricMonth: 0.1,
    perCompositeAlarmMonth: 0.5,
    perDashboardMonth: 3,
    logsIngestionPerGb: 0.5,
    logsStoragePerGbMonth: 0.03,
  },
  kms: { perKeyMonth: 1 },
} as const;

/** What the estimate assumes about usage; the template cannot tell these. */
export interface UsageAssumptions {
  /** Average load-balancer capacity units in use (1 LCU = 25 new conn/s, 3,000 active conn, 1 GB/h, 1,000 rule evals/s). */
  readonly albAverageLcus: number;
  /** HTTP requests through the ALB (and so WAF) per month. */
  readonly requestsPerMonth: number;
  /** Data through the NAT gateways per month (image pulls, Cognito/OIDC, Phenom API, federation). */
  readonly natGbPerMonth: number;
  /** Invocations per month of each request-driven Lambda (link preview, Cognito triggers). */
  readonly lambdaInvocationsPerFunction: number;
  /** Average duration of a request-driven Lambda invocation. */
  readonly lambdaAverageMs: number;
  /** Average duration of one run of a scheduled Lambda (the history purge). */
  readonly scheduledLambdaAverageMs: number;
  /** CloudWatch Logs ingested per month across all log groups (ECS, Lambda, RDS, flow logs, WAF). */
  readonly logsGbPerMonth: number;
  /** Secrets Manager API calls per month (task starts, Lambda cold starts, cached reads). */
  readonly secretsApiCallsPerMonth: number;
}

/** A small team's test environment, and a production with real but modest traffic. */
export const USAGE_ASSUMPTIONS: Record<'development' | 'production', UsageAssumptions> = {
  development: {
    albAverageLcus: 1,
    requestsPerMonth: 1_000_000,
    natGbPerMonth: 20,
    lambdaInvocationsPerFunction: 50_000,
    lambdaAverageMs: 300,
    scheduledLambdaAverageMs: 60_000,
    logsGbPerMonth: 5,
    secretsApiCallsPerMonth: 20_000,
  },
  production: {
    albAverageLcus: 2,
    requestsPerMonth: 10_000_000,
    natGbPerMonth: 100,
    lambdaInvocationsPerFunction: 500_000,
    lambdaAverageMs: 300,
    scheduledLambdaAverageMs: 60_000,
    logsGbPerMonth: 50,
    secretsApiCallsPerMonth: 100_000,
  },
};

/** The assumptions of an environment by name; any non-production name uses the development figures. */
export function usageAssumptionsFor(envName: string): UsageAssumptions {
  return envName === 'production' ? USAGE_ASSUMPTIONS.production : USAGE_ASSUMPTIONS.development;
}
