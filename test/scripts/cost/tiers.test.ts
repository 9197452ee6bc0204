import { CfnTemplate, estimateMonthlyCost } from '../../../scripts/cost/estimate';
import { PRICE_TABLE, USAGE_ASSUMPTIONS } from '../../../scripts/cost/prices';
import { mergeConfig } from '../../../scripts/cost/synth';
import { COST_TIERS, evaluateTier, formatTierSummary, withInstanceClass } from '../../../scripts/cost/tiers';

const H = PRICE_TABLE.hoursPerMonth;
const sg = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });

/** What a tier's synth would return, small: the database, Hasura scaling 2–6, and a Synapse main process. */
function template(instanceClass: string): CfnTemplate {
  return {
    Resources: {
      DbSg: { Type: 'AWS::EC2::SecurityGroup' },
      Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: instanceClass, MultiAZ: true, AllocatedStorage: 50, StorageType: 'gp3', VPCSecurityGroups: [sg('DbSg')] } },
      HasuraSg: { Type: 'AWS::EC2::SecurityGroup' },
      HasuraIn: { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { GroupId: sg('DbSg'), FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: sg('HasuraSg') } },
      HasuraTask: {
        Type: 'AWS::ECS::TaskDefinition',
        Properties: { Cpu: '512', Memory: '1024', ContainerDefinitions: [{ Name: 'hasura', Environment: [{ Name: 'HASURA_GRAPHQL_PG_CONNECTIONS', Value: '5' }] }] },
      },
      Hasura: {
        Type: 'AWS::ECS::Service',
        Properties: {
          ServiceName: 'phenom-production-hasura',
          TaskDefinition: { Ref: 'HasuraTask' },
          DesiredCount: 2,
          NetworkConfiguration: { AwsvpcConfiguration: { SecurityGroups: [sg('HasuraSg')] } },
        },
      },
      HasuraScaling: { Type: 'AWS::ApplicationAutoScaling::ScalableTarget', Properties: { MinCapacity: 2, MaxCapacity: 6, ResourceId: { 'Fn::GetAtt': ['Hasura', 'Name'] } } },
      SynapseTask: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '512', Memory: '1024', ContainerDefinitions: [{ Name: 'synapse' }] } },
      Synapse: { Type: 'AWS::ECS::Service', Properties: { ServiceName: 'phenom-production-synapse', TaskDefinition: { Ref: 'SynapseTask' } } },
      Admin: { Type: 'AWS::ECS::Service', Properties: { ServiceName: 'phenom-production-synapse-admin', TaskDefinition: { Ref: 'SynapseTask' } } },
    },
  };
}

describe('cost tiers', () => {
  test('three tiers: development, production at launch and at 10× launch, each with a Graviton class to compare', () => {
    expect(COST_TIERS.map((t) => [t.name, t.environment, t.graviton.instanceClass])).toEqual([
      ['development', 'development', 'db.t4g.medium'],
      ['production at launch', 'production', 'db.m7g.large'],
      ['production at 10× launch', 'production', 'db.m7g.xlarge'],
    ]);
    const tenX = COST_TIERS[2];
    expect(tenX.usage.requestsPerMonth).toBe(10 * USAGE_ASSUMPTIONS.production.requestsPerMonth);
    for (const tier of COST_TIERS) expect(PRICE_TABLE.rds.postgresInstanceHour[tier.graviton.instanceClass]).toBeGreaterThan(0);
  });

  test("a tier is its environment's config with the tier's keys laid over it, then priced, with its Graviton option and budget", () => {
    const calls: unknown[] = [];
    const tier = COST_TIERS[2];
    const result = evaluateTier({}, tier, (_context, envName, overrides) => {
      calls.push([envName, overrides]);
      return template((overrides?.database as { instanceClass: string }).instanceClass);
    });
    expect(calls).toEqual([['production', tier.overrides]]);
    const rdsItem = (estimate: typeof result.estimate) => estimate.items.find((i) => i.category === 'RDS')!.monthlyUsd;
    expect(rdsItem(result.estimate)).toBeCloseTo(2 * (H * 0.356 + 50 * 0.115), 2);
    expect(rdsItem(result.gravitonEstimate)).toBeCloseTo(2 * (H * 0.336 + 50 * 0.115), 2);
    expect(result.budget.total).toBe(25 * 12 + 5); // (20 + 5) per Hasura task × 6 × 200 %, plus RDS's reserved slots

    const summary = formatTierSummary([result]);
    expect(summary).toContain('| tier | Synapse tasks (main + workers) | Hasura tasks | MCP tasks | RDS class | USD/month | Graviton option | USD/month | connections (limit) |');
    expect(summary).toContain(
      `| production at 10× launch | 1 | 2–6 | 0 | db.m5.xlarge Multi-AZ | $${result.estimate.totalUsd.toFixed(2)} | db.m7g.xlarge | $${result.gravitonEstimate.totalUsd.toFixed(2)} | 305 of 1586 (1268) |`,
    );
    expect(summary).toContain('- production at 10× launch, db.m7g.xlarge: same 4 vCPU / 16 GiB on Graviton3');
  });

  test('withInstanceClass changes only the RDS instances', () => {
    const changed = withInstanceClass(template('db.m5.large'), 'db.t4g.medium');
    expect(changed.Resources!.Db.Properties!.DBInstanceClass).toBe('db.t4g.medium');
    expect(changed.Resources!.Hasura).toEqual(template('db.m5.large').Resources!.Hasura);
  });

  test('mergeConfig merges objects key by key and replaces everything else', () => {
    expect(mergeConfig({ production: true, hasura: { mode: 'create', image: 'x:1' }, edge: { allowedCidrs: ['a'] } }, { hasura: { maxCount: 12 }, edge: { allowedCidrs: ['b'] } })).toEqual({
      production: true,
      hasura: { mode: 'create', image: 'x:1', maxCount: 12 },
      edge: { allowedCidrs: ['b'] },
    });
  });
});

describe('ElastiCache and Cloud Map in the estimate', () => {
  const usage = { ...USAGE_ASSUMPTIONS.production, cacheEcpuPerMonth: 1e9 };
  const items = (resources: CfnTemplate['Resources']) => estimateMonthlyCost({ Resources: resources }, usage).items.filter((i) => i.category === 'ElastiCache' || i.category === 'Cloud Map');

  test('a replication group is priced per node by type, Valkey at its discount', () => {
    const [valkey] = items({ Redis: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { Engine: 'valkey', CacheNodeType: 'cache.t4g.small', NumCacheClusters: 2 } } });
    expect(valkey.monthlyUsd).toBeCloseTo(2 * H * 0.032 * 0.8, 6);
    const [sharded] = items({ Redis: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { Engine: 'redis', CacheNodeType: 'cache.m7g.large', NumNodeGroups: 2, ReplicasPerNodeGroup: 1 } } });
    expect(sharded.monthlyUsd).toBeCloseTo(4 * H * 0.158, 6);
  });

  test('a serverless cache at its minimum storage plus ECPUs; a private namespace as a hosted zone', () => {
    const [cache, namespace] = items({ Cache: { Type: 'AWS::ElastiCache::ServerlessCache', Properties: { Engine: 'valkey' } }, Ns: { Type: 'AWS::ServiceDiscovery::PrivateDnsNamespace' } });
    expect(cache.monthlyUsd).toBeCloseTo(0.1 * H * 0.084 + 1000 * 0.0023, 6);
    expect(namespace.monthlyUsd).toBe(0.5);
  });

  test('names the missing price of an unknown node type', () => {
    expect(() => items({ Redis: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { CacheNodeType: 'cache.x9.huge' } } })).toThrow(
      /ElastiCache Redis: no price for node type cache.x9.huge; add it to PRICE_TABLE.elastiCache.nodeHour/,
    );
  });
});
