import {
  assertWithinBudget,
  BudgetTemplate,
  connectionBudget,
  CONNECTIONS_PER_INVOCATION_METADATA,
  databaseClients,
  defaultMaxConnections,
  formatBudget,
  synapsePoolMax,
} from '../../../lib/operations/connection-budget';

const sg = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });
const ingress = (source: string) => ({
  Type: 'AWS::EC2::SecurityGroupIngress',
  Properties: { GroupId: sg('DbSg'), IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: sg(source) },
});
const synapseYaml = (cpMax: number) => `server_name: example.org\ndatabase:\n  name: psycopg2\n  args:\n    user: \${SYNAPSE_DB_USER}\n    cp_min: 5\n    cp_max: ${cpMax}\n`;
const service = (taskId: string, sgId: string, desired = 1, maxPercent = 200) => ({
  Type: 'AWS::ECS::Service',
  Properties: {
    TaskDefinition: { Ref: taskId },
    DesiredCount: desired,
    DeploymentConfiguration: { MaximumPercent: maxPercent },
    NetworkConfiguration: { AwsvpcConfiguration: { SecurityGroups: [sg(sgId)] } },
  },
});
const task = (env: Record<string, unknown>) => ({
  Type: 'AWS::ECS::TaskDefinition',
  Properties: { ContainerDefinitions: [{ Name: 'main', Environment: Object.entries(env).map(([Name, Value]) => ({ Name, Value })) }] },
});
const scalableTarget = (serviceId: string, max: number) => ({
  Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
  Properties: { MinCapacity: 1, MaxCapacity: max, ResourceId: { 'Fn::Join': ['', ['service/', { Ref: 'Cluster' }, '/', { 'Fn::GetAtt': [serviceId, 'Name'] }]] } },
});

/** A small stack: Synapse main (cp_max 10), a generic worker that autoscales to 4 (cp_max 5), Hasura (2 tasks), a capped Lambda and a rotation. */
function fragment(extra: Record<string, unknown> = {}, instanceClass = 'db.m5.large'): BudgetTemplate {
  return {
    Resources: {
      DbSg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
      Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: instanceClass, VPCSecurityGroups: [sg('DbSg')] } },
      SynapseSg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
      SynapseIn: ingress('SynapseSg'),
      SynapseTask: task({ SYNAPSE_CONFIG_YAML: synapseYaml(10) }),
      SynapseService: service('SynapseTask', 'SynapseSg', 1, 100),
      // The worker shares Synapse's SG: nothing in the budget names it.
      WorkerTask: task({ SYNAPSE_CONFIG_YAML: synapseYaml(5) }),
      GenericWorkerService: service('WorkerTask', 'SynapseSg', 2, 200),
      GenericWorkerScaling: scalableTarget('GenericWorkerService', 4),
      HasuraSg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
      HasuraIn: ingress('HasuraSg'),
      HasuraTask: task({ HASURA_GRAPHQL_PG_CONNECTIONS: '5' }),
      HasuraService: service('HasuraTask', 'HasuraSg', 2, 200),
      FnSg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
      FnIn: ingress('FnSg'),
      Fn: { Type: 'AWS::Lambda::Function', Metadata: { [CONNECTIONS_PER_INVOCATION_METADATA]: 1 }, Properties: { ReservedConcurrentExecutions: 10, VpcConfig: { SecurityGroupIds: [sg('FnSg')] } } },
      RotSg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
      RotIn: ingress('RotSg'),
      Rotation: { Type: 'AWS::SecretsManager::RotationSchedule', Properties: { HostedRotationLambda: { RotationType: 'PostgreSQLMultiUser', VpcSecurityGroupIds: sg('RotSg') } } },
      ...extra,
    },
  } as BudgetTemplate;
}
const OPTIONS = { hasuraSourcePoolMax: 20 };

describe('database connection budget', () => {
  test('sums pool × most tasks (deploy overlap included) over every client the RDS SG lets in, workers found through their SG', () => {
    const byName = Object.fromEntries(databaseClients(fragment(), OPTIONS).map((c) => [c.name, c.connections]));
    expect(byName).toEqual({
      SynapseService: 10, // 10 × 1 (MaximumPercent 100: stop before start)
      GenericWorkerService: 40, // 5 × ceil(4 × 200 %)
      HasuraService: 100, // (20 source + 5 metadata) × 2 × 200 %
      Fn: 10,
      Rotation: 2,
      'RDS reserved slots': 5,
    });
    const budget = connectionBudget(fragment(), OPTIONS);
    expect(budget.total).toBe(167);
    expect(budget.maxConnections).toBe(793); // floor(8 GiB × 0.88 / 9531392)
    expect(budget.usable).toBe(634);
    expect(() => assertWithinBudget(budget, 'fragment')).not.toThrow();
    expect(formatBudget('fragment', budget)).toContain('| GenericWorkerService | ECS service | main: cp_max 5; MaxCapacity 4 × 200 % during a deploy | 40 |');
  });

  test('a template past the limit fails, naming its largest clients', () => {
    const budget = connectionBudget(fragment({}, 'db.t3.micro'), OPTIONS); // 1 GiB: 99 connections, 79 usable
    expect(budget.maxConnections).toBe(99);
    expect(() => assertWithinBudget(budget, 'small')).toThrow(
      /small: the database clients may hold 167 connections, over the 79 allowed .*Largest: HasuraService 100 \(25 × 4\), GenericWorkerService 40 \(5 × 8\), SynapseService 10/,
    );
  });

  test("the parameter group's explicit max_connections wins over the class default", () => {
    const template = fragment({
      Db: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.m5.large', VPCSecurityGroups: [sg('DbSg')], DBParameterGroupName: { Ref: 'Params' } } },
      Params: { Type: 'AWS::RDS::DBParameterGroup', Properties: { Parameters: { max_connections: '150' } } },
    });
    const budget = connectionBudget(template, OPTIONS);
    expect(budget.maxConnections).toBe(150);
    expect(() => assertWithinBudget(budget, 'capped')).toThrow(/over the 120 allowed/);
  });

  test('a connecting Lambda without reserved concurrency fails and is told to cap it', () => {
    const template = fragment({ Fn: { Type: 'AWS::Lambda::Function', Metadata: { [CONNECTIONS_PER_INVOCATION_METADATA]: 1 }, Properties: { VpcConfig: { SecurityGroupIds: [sg('FnSg')] } } } });
    expect(() => databaseClients(template, OPTIONS)).toThrow(/Lambda Fn connects to the database with no concurrency cap: cap it/);
  });

  test('a connecting Lambda or service that declares no pool fails', () => {
    const lambda = fragment({ Fn: { Type: 'AWS::Lambda::Function', Properties: { ReservedConcurrentExecutions: 2, VpcConfig: { SecurityGroupIds: [sg('FnSg')] } } } });
    expect(() => databaseClients(lambda, OPTIONS)).toThrow(/Lambda Fn is let into the database but declares no connections per invocation/);
    const silent = fragment({ HasuraTask: task({ SOMETHING: 'else' }) });
    expect(() => databaseClients(silent, OPTIONS)).toThrow(/HasuraService is let into the database but none of its containers declares a pool/);
  });

  test('services and functions the RDS SG does not let in are not counted', () => {
    const template = fragment({ OtherSg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} }, OtherTask: task({ PG_POOL_MAX: '50' }), OtherService: service('OtherTask', 'OtherSg', 10) });
    expect(databaseClients(template, OPTIONS).map((c) => c.name)).not.toContain('OtherService');
  });

  test('cp_max: summed over `databases`, Synapse default 5 when unset, bad YAML and missing sections refused', () => {
    expect(synapsePoolMax('databases:\n  main:\n    args:\n      cp_max: 7\n  state:\n    args: {}\n', 'x')).toBe(12);
    expect(() => synapsePoolMax('server_name: a\n', 'w')).toThrow(/w: SYNAPSE_CONFIG_YAML has no database section/);
    expect(() => synapsePoolMax('database: [\n', 'w')).toThrow(/w: SYNAPSE_CONFIG_YAML is not YAML/);
    expect(() => synapsePoolMax('database:\n  args:\n    cp_max: lots\n', 'w')).toThrow(/w: cp_max: expected a whole number/);
  });

  test('the class default follows LEAST(memory / 9531392, 5000) and refuses a class it has no memory for', () => {
    expect(defaultMaxConnections('db.m7g.xlarge')).toBe(1586);
    expect(defaultMaxConnections('db.m5.2xlarge')).toBe(3172);
    expect(() => defaultMaxConnections('db.x9.huge')).toThrow(/no memory figure for db.x9.huge/);
  });

  test('refuses a template without exactly one RDS instance', () => {
    expect(() => connectionBudget({ Resources: {} }, OPTIONS)).toThrow(/expected the template to create one RDS instance, found 0/);
  });
});
