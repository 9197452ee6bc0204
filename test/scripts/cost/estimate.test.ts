import { CfnTemplate, estimateMonthlyCost, runsPerMonth } from '../../../scripts/cost/estimate';
import { PRICE_TABLE, USAGE_ASSUMPTIONS } from '../../../scripts/cost/prices';
import { stackTemplate } from '../../support/synth';

const usage = USAGE_ASSUMPTIONS.development;
const item = (estimate: ReturnType<typeof estimateMonthlyCost>, category: string, name?: string) => {
  const found = estimate.items.filter((i) => i.category === category && (name === undefined || i.name === name));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('cost estimate', () => {
  test('worked example: the production template, checked by hand against the unit table', () => {
    const estimate = estimateMonthlyCost(stackTemplate('production').toJSON() as CfnTemplate, USAGE_ASSUMPTIONS.production);

    // The unit table's figures this example relies on (us-east-1, 2025 list prices).
    expect(PRICE_TABLE.rds.postgresInstanceHour['db.m5.large']).toBe(0.178);
    expect(PRICE_TABLE.rds.gp3PerGbMonth).toBe(0.115);
    expect(PRICE_TABLE.nat).toEqual({ perHour: 0.045, perGbProcessed: 0.045 });
    expect(PRICE_TABLE.alb).toEqual({ perHour: 0.0225, perLcuHour: 0.008 });

    // RDS: db.m5.large Multi-AZ (production default) with 50 GB gp3.
    //   instance: 730 h × $0.178 × 2 = $259.88; storage: 50 GB × $0.115 × 2 = $11.50; total $271.38
    expect(item(estimate, 'RDS').name).toBe('db.m5.large PostgreSQL Multi-AZ');
    expect(item(estimate, 'RDS').monthlyUsd).toBeCloseTo(271.38, 2);

    // NAT: two gateways (one per AZ in production): 2 × 730 h × $0.045 = $65.70, plus 100 GB × $0.045 = $4.50 → $70.20
    expect(item(estimate, 'NAT gateway').monthlyUsd).toBeCloseTo(70.2, 2);

    // ALB: 730 h × ($0.0225 + 2 LCU × $0.008) = 730 × 0.0385 = $28.105
    expect(item(estimate, 'Load balancer').monthlyUsd).toBeCloseTo(28.105, 3);

    // ElastiCache: the Synapse replication Valkey, a primary and one replica of cache.t4g.small: 730 h × $0.0256 × 2 = $37.376
    expect(PRICE_TABLE.elastiCache.nodeHour['cache.t4g.small'] * PRICE_TABLE.elastiCache.valkeyDiscount).toBeCloseTo(0.0256, 6);
    expect(item(estimate, 'ElastiCache').name).toMatch(/\(Valkey\)$/);
    expect(item(estimate, 'ElastiCache').detail).toMatch(/^2 × cache\.t4g\.small × 730 h/);
    expect(item(estimate, 'ElastiCache').monthlyUsd).toBeCloseTo(37.376, 3);

    // The total is the sum of the items, nothing hidden.
    expect(estimate.totalUsd).toBeCloseTo(
      estimate.items.reduce((s, i) => s + i.monthlyUsd, 0),
      6,
    );
  });

  test('development is single-AZ with one NAT gateway, so it costs less than production', () => {
    const dev = estimateMonthlyCost(stackTemplate('development').toJSON() as CfnTemplate, USAGE_ASSUMPTIONS.development);
    const prod = estimateMonthlyCost(stackTemplate('production').toJSON() as CfnTemplate, USAGE_ASSUMPTIONS.production);
    // 730 × 0.178 + 50 × 0.115 = 129.94 + 5.75
    expect(item(dev, 'RDS').monthlyUsd).toBeCloseTo(135.69, 2);
    // 730 × 0.045 + 20 GB × 0.045
    expect(item(dev, 'NAT gateway').monthlyUsd).toBeCloseTo(33.75, 2);
    expect(dev.totalUsd).toBeLessThan(prod.totalUsd);
  });

  test('prices Fargate per task size and architecture, at the auto-scaling minimum', () => {
    const template: CfnTemplate = {
      Resources: {
        ArmTask: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '512', Memory: '1024', RuntimePlatform: { CpuArchitecture: 'ARM64' } } },
        X86Task: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '256', Memory: '512' } },
        SynapseService: { Type: 'AWS::ECS::Service', Properties: { ServiceName: 'synapse', DesiredCount: 1, TaskDefinition: { Ref: 'ArmTask' } } },
        McpService: { Type: 'AWS::ECS::Service', Properties: { ServiceName: 'mcp', DesiredCount: 1, TaskDefinition: { Ref: 'X86Task' } } },
        McpScaling: {
          Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
          Properties: { MinCapacity: 2, MaxCapacity: 4, ResourceId: { 'Fn::Join': ['', ['service/c/', { 'Fn::GetAtt': ['McpService', 'Name'] }]] } },
        },
      },
    };
    const estimate = estimateMonthlyCost(template, usage);
    // ARM64, 0.5 vCPU / 1 GB, 1 task: 730 × (0.5 × 0.03238 + 1 × 0.00356) = 730 × 0.01975 = $14.4175
    expect(item(estimate, 'Fargate', 'synapse').monthlyUsd).toBeCloseTo(14.4175, 4);
    // x86_64, 0.25 vCPU / 0.5 GB, 2 tasks (the scaling minimum): 2 × 730 × (0.25 × 0.04048 + 0.5 × 0.004445) = $18.020
    const mcp = item(estimate, 'Fargate', 'mcp');
    expect(mcp.monthlyUsd).toBeCloseTo(2 * 730 * (0.25 * 0.04048 + 0.5 * 0.004445), 6);
    expect(mcp.detail).toContain('scales to 4');
    expect(mcp.detail).toContain('X86_64');
  });

  test('prices scheduled and request-driven Lambdas and leaves deploy-time handlers at zero', () => {
    const template: CfnTemplate = {
      Resources: {
        PurgeFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256, Architectures: ['arm64'] } },
        PurgeRule: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'cron(30 3 * * ? *)', Targets: [{ Arn: { 'Fn::GetAtt': ['PurgeFn', 'Arn'] } }] } },
        PreviewFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 512, Architectures: ['arm64'] } },
        MigrateFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
        ProviderFn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Description: 'AWS CDK resource provider framework - onEvent', Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': ['MigrateFn', 'Arn'] } } } },
        },
        Migrations: { Type: 'Custom::ChatMigrations', Properties: { ServiceToken: { 'Fn::GetAtt': ['ProviderFn', 'Arn'] } } },
      },
    };
    const estimate = estimateMonthlyCost(template, usage);
    // Daily: 730 / 24 = 30.42 runs × 60 s × 0.25 GB × $0.0000133334 + 30.42 / 1e6 × $0.20
    expect(item(estimate, 'Lambda', 'PurgeFn').monthlyUsd).toBeCloseTo(30.416667 * 60 * 0.25 * 0.0000133334 + (30.416667 / 1e6) * 0.2, 6);
    // 50,000 × 0.3 s × 0.5 GB × $0.0000133334 + 0.05 M × $0.20 = 0.100 + 0.010
    expect(item(estimate, 'Lambda', 'PreviewFn').monthlyUsd).toBeCloseTo(0.110001, 5);
    expect(item(estimate, 'Lambda', '2 deploy-time functions').monthlyUsd).toBe(0);
  });

  test('counts schedule runs and refuses schedules it cannot count', () => {
    expect(runsPerMonth('rate(1 hour)')).toBe(730);
    expect(runsPerMonth('rate(5 minutes)')).toBe(730 * 12);
    expect(runsPerMonth('cron(30 3 * * ? *)')).toBeCloseTo(30.4167, 3);
    expect(() => runsPerMonth('cron(0 3 ? * MON *)')).toThrow(/cannot count the runs/);
  });

  test('names the missing price when an RDS class is not in the table', () => {
    const template: CfnTemplate = { Resources: { Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.x2g.16xlarge' } } } };
    expect(() => estimateMonthlyCost(template, usage)).toThrow(/no price for instance class db.x2g.16xlarge; add it to PRICE_TABLE/);
  });
});
