import { parse } from 'yaml';
import { AB_NAMESPACE } from '../../../chat-domain/ab-metrics';
import { stackTemplate } from '../../support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is walked freely in assertions
type Json = Record<string, any>;

describe('the Synapse metrics sidecar (development template)', () => {
  const t = stackTemplate('development');
  const resources = t.toJSON().Resources as Record<string, Json>;
  const [, task] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::ECS::TaskDefinition' && id.startsWith('ChatSynapseTaskDefinition'))!;
  const containers = task.Properties.ContainerDefinitions as Json[];
  const sidecar = containers.find((c) => c.Name === 'synapse-metrics')!;
  const env = Object.fromEntries((sidecar.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));

  it("runs in Synapse's task, not essential, small, started after Synapse (so stopped before it)", () => {
    expect(sidecar).toMatchObject({ Essential: false, Cpu: 64, Memory: 160, MemoryReservation: 64, StopTimeout: 35, DependsOn: [{ ContainerName: 'synapse', Condition: 'START' }] });
    expect(sidecar.HealthCheck).toEqual({ Command: ['CMD-SHELL', 'node src/health.mjs || exit 1'], Interval: 60, Timeout: 5, Retries: 3, StartPeriod: 120 });
    expect(env).toMatchObject({ SYNAPSE_METRICS_URL: 'http://127.0.0.1:9000/_synapse/metrics', AB_ENVIRONMENT: 'phenom-development', SCRAPE_INTERVAL_SECONDS: '60' });
    expect(sidecar.Secrets).toBeUndefined();
  });

  it('scrapes the listener the homeserver config opens on the loopback, which no container maps and no security group opens', () => {
    const synapse = containers.find((c) => c.Name === 'synapse')!;
    const yaml = parse(synapse.Environment.find((e: Json) => e.Name === 'SYNAPSE_CONFIG_YAML').Value as string);
    expect(yaml.enable_metrics).toBe(true);
    expect(yaml.listeners.filter((l: Json) => l.type === 'metrics')).toEqual([{ port: 9000, type: 'metrics', bind_addresses: ['127.0.0.1'] }]);
    const mapped = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .flatMap((r) => (r.Properties.ContainerDefinitions as Json[]).flatMap((c) => (c.PortMappings ?? []).map((p: Json) => p.ContainerPort)));
    expect(mapped).not.toContain(9000);
    expect(sidecar.PortMappings).toBeUndefined();
    const ingress = Object.values(resources).flatMap((r) =>
      r.Type === 'AWS::EC2::SecurityGroupIngress' ? [r.Properties] : r.Type === 'AWS::EC2::SecurityGroup' ? ((r.Properties.SecurityGroupIngress as Json[]) ?? []) : [],
    );
    expect(ingress.filter((i) => i.FromPort <= 9000 && i.ToPort >= 9000)).toEqual([]);
  });

  it('logs to a log group of its own, with the retention of the others', () => {
    const logConfig = sidecar.LogConfiguration;
    expect(logConfig).toMatchObject({ LogDriver: 'awslogs', Options: { 'awslogs-stream-prefix': 'synapse-metrics' } });
    const groupId = logConfig.Options['awslogs-group'].Ref as string;
    expect(resources[groupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/ecs/phenom-development-synapse-metrics' } });
    const synapseGroup = containers.find((c) => c.Name === 'synapse')!.LogConfiguration.Options['awslogs-group'].Ref as string;
    expect(groupId).not.toBe(synapseGroup);
    expect(resources[groupId].Properties.RetentionInDays).toBe(resources[synapseGroup].Properties.RetentionInDays);
  });

  it('may put metrics into Phenom/AB only: every PutMetricData grant in the template carries the namespace condition', () => {
    const taskRoleId = task.Properties.TaskRoleArn['Fn::GetAtt'][0] as string;
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument.Statement as Json[]).map((s): Json => ({ roles: r.Properties.Roles as Json[], ...s })))
      .filter((s) => [s.Action].flat().some((a: string) => a === '*' || a.startsWith('cloudwatch:')));
    expect(statements.length).toBeGreaterThanOrEqual(3); // the collector, ab-log-metrics and the sidecar
    for (const s of statements) expect(s).toMatchObject({ Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': AB_NAMESPACE } } });
    expect(statements.filter((s) => (s.roles as Json[]).some((r) => r.Ref === taskRoleId))).toHaveLength(1);
  });
});
