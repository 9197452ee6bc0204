import { Match, Template } from 'aws-cdk-lib/assertions';
import { stackTemplate } from '../../support/synth';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
const resources = (t: Template) => (t.toJSON() as { Resources: Resources }).Resources;
const ofType = (t: Template, type: string) => Object.entries(resources(t)).filter(([, r]) => r.Type === type);
const json = (v: unknown) => String(JSON.stringify(v));

const ENVS = [
  ['development', 30],
  ['production', 365],
] as const;

describe.each(ENVS)('%s operations', (envName, retentionDays) => {
  const template = stackTemplate(envName);
  const alarms = () => ofType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Record<string, unknown>);
  const alarm = (suffix: string) => {
    const found = alarms().filter((a) => String(a.AlarmName).endsWith(suffix));
    expect(found.map((a) => a.AlarmName)).toEqual([`phenom-${envName}-${suffix}`]);
    return found[0];
  };

  test('every log group has the configured retention', () => {
    const groups = ofType(template, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(10);
    const without = groups.filter(([, g]) => g.Properties?.RetentionInDays === undefined).map(([id]) => id);
    expect(without).toEqual([]);
    for (const [id, g] of groups) expect({ id, days: g.Properties!.RetentionInDays }).toEqual({ id, days: retentionDays });
    // The RDS postgresql log group is created by RDS; CDK's log-retention resource sets its retention.
    template.hasResourceProperties('Custom::LogRetention', {
      RetentionInDays: retentionDays,
      LogGroupName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['/aws/rds/instance/', '/postgresql'])] }),
    });
  });

  test('every Lambda logs to a log group of the stack (none falls back to an unmanaged /aws/lambda group)', () => {
    const groups = ofType(template, 'AWS::Logs::LogGroup');
    for (const [id, fn] of ofType(template, 'AWS::Lambda::Function')) {
      const configured = (fn.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
      const named = groups.some(([, g]) => json(g.Properties?.LogGroupName).includes(`"/aws/lambda/",{"Ref":"${id}"}`));
      expect({ id, hasLogGroup: configured !== undefined || named }).toEqual({ id, hasLogGroup: true });
    }
    // Every container logs with awslogs into a log group of the stack.
    const groupIds = groups.map(([id]) => id);
    for (const [id, task] of ofType(template, 'AWS::ECS::TaskDefinition')) {
      for (const c of task.Properties!.ContainerDefinitions as { Name: string; LogConfiguration?: { LogDriver: string; Options: Record<string, unknown> } }[]) {
        expect({ id, container: c.Name, driver: c.LogConfiguration?.LogDriver }).toEqual({ id, container: c.Name, driver: 'awslogs' });
        expect(groupIds).toContain((c.LogConfiguration!.Options['awslogs-group'] as { Ref: string }).Ref);
      }
    }
  });

  test('VPC flow logs capture all traffic into a log group with retention', () => {
    const [flowLog] = ofType(template, 'AWS::EC2::FlowLog');
    expect(flowLog[1].Properties).toMatchObject({ ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const groupRef = (flowLog[1].Properties!.LogGroupName as { Ref: string }).Ref;
    expect(resources(template)[groupRef].Properties!.RetentionInDays).toBe(retentionDays);
  });

  test('the alarms exist with their thresholds and notify the alarm topic', () => {
    const topic = ofType(template, 'AWS::SNS::Topic').find(([, t]) => t.Properties!.TopicName === `phenom-${envName}-alarms`)![0];
    for (const a of alarms()) {
      expect({ alarm: a.AlarmName, actions: a.AlarmActions, ok: a.OKActions }).toEqual({ alarm: a.AlarmName, actions: [{ Ref: topic }], ok: [{ Ref: topic }] });
    }
    for (const service of ['Synapse', 'SynapseAdmin', 'McpServer', 'Hasura']) {
      // > 5 % target 5xx in 3 of 3 five-minute periods
      expect(alarm(`Alb-${service}Target5xxRate-Critical`)).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
      // unhealthy hosts > 0 for 3 one-minute datapoints (the seeds' 3 checks)
      const unhealthy = alarm(`${service}-Unhealthy-Tasks-Critical`);
      expect(unhealthy).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3 });
      expect(json(unhealthy.Metrics)).toContain('UnHealthyHostCount');
      expect(json(unhealthy.Metrics)).toContain('"Period":60');
      // running < desired for 5 minutes
      const running = alarm(`${service}Tasks-${service}RunningBelowDesired-Critical`);
      expect(running).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 5, TreatMissingData: 'breaching' });
      expect(json(running.Metrics)).toContain('RunningTaskCount');
      expect(json(running.Metrics)).toContain('DesiredTaskCount');
    }
    expect(alarm('Rds-CPU-Usage-Critical')).toMatchObject({ Threshold: 80, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3 });
    // 10 % of the 50 GiB allocated
    expect(alarm('Rds-Min-Usage-Count-Critical')).toMatchObject({ Threshold: 5 * 1024 ** 3, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3 });
    // 80 % of max_connections on db.m5.large: floor(8 GiB × 0.88 (DBInstanceClassMemory) / 9531392) = 793 → 634
    expect(alarm('Rds-Connection-Count-High-Critical')).toMatchObject({ Threshold: 634, ComparisonOperator: 'GreaterThanThreshold' });
    const provisioning = alarm('Provisioning-ProvisioningFailed-Critical');
    expect(provisioning).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    const [query] = provisioning.Metrics as { MetricStat: { Metric: unknown; Stat: string } }[];
    expect(query.MetricStat).toMatchObject({
      Metric: { Namespace: 'PhenomChat', MetricName: 'ProvisioningFailed', Dimensions: [{ Name: 'service', Value: `phenom-${envName}-user-provisioner` }] },
      Stat: 'Sum',
    });
  });

  test('every Lambda of the app has an errors alarm', () => {
    const functionsWithAlarm = new Set(
      alarms()
        .filter((a) => String(a.AlarmName).endsWith('Lambda-Fault-Count-Critical'))
        .map((a) => json(a.Metrics ?? a.Dimensions).match(/"FunctionName","Value":\{"Ref":"(\w+)"\}/)?.[1] ?? json(a).match(/\{"Ref":"(\w+)"\}/)?.[1]),
    );
    // Our own Lambdas are the ones bundled from lambda/ (Node 22, arm64).
    const ours = ofType(template, 'AWS::Lambda::Function').filter(([, f]) => f.Properties!.Runtime === 'nodejs22.x' && json(f.Properties!.Architectures) === '["arm64"]');
    expect(ours.length).toBeGreaterThanOrEqual(8);
    for (const [id] of ours) expect({ id, alarmed: functionsWithAlarm.has(id) }).toEqual({ id, alarmed: true });
    for (const a of alarms().filter((x) => String(x.AlarmName).endsWith('Lambda-Fault-Count-Critical'))) {
      expect(a).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  test('one dashboard covers the ALB, every ECS service, RDS, every Lambda and the link-preview cache', () => {
    const dashboards = ofType(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards.map(([, d]) => d.Properties!.DashboardName)).toEqual([`phenom-${envName}`]);
    const body = json(dashboards[0][1].Properties!.DashboardBody);
    for (const [id] of ofType(template, 'AWS::ECS::Service')) expect(body).toContain(`{"Fn::GetAtt":["${id}","Name"]}`);
    for (const [id] of ofType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')) expect(body).toContain(`{"Fn::GetAtt":["${id}","TargetGroupFullName"]}`);
    for (const [id] of ofType(template, 'AWS::Lambda::Function').filter(([, f]) => f.Properties!.Runtime === 'nodejs22.x')) expect(body).toContain(`{"Ref":"${id}"}`);
    expect(body).toContain('AWS/RDS');
    for (const m of ['ReadLatency', 'WriteLatency', 'FreeStorageSpace', 'DatabaseConnections', 'CPUUtilization']) expect(body).toContain(m);
    for (const m of ['CacheHit', 'CacheMiss', 'UpstreamLatency']) expect(body).toContain(`\\"${m}\\"`);
    expect(body).toContain('Cognito triggers');
  });

  test('the Synapse history purge runs daily, with 90 days retention, against the Synapse service', () => {
    const [ruleId, rule] = ofType(template, 'AWS::Events::Rule').find(([, r]) => r.Properties!.ScheduleExpression === 'cron(30 3 * * ? *)')!;
    expect(ruleId).toMatch(/SynapseHistoryPurge/);
    const target = (rule.Properties!.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[])[0].Arn['Fn::GetAtt'][0];
    const fn = resources(template)[target].Properties!;
    expect(fn.Environment).toMatchObject({
      Variables: { RETENTION_DAYS: '90', ADMIN_TOKEN_SECRET_KEY_NAME: 'accessToken', ROOM_ALIASES: expect.stringMatching(/^#internal:.+,#partners:.+,#community:.+$/) },
    });
    expect(json(fn.Environment)).toMatch(/"SYNAPSE_URL":"http:\/\//);
  });

  test('backups and retention: RDS backups, the media bucket versioned with lifecycle rules', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: envName === 'production' ? 30 : 7 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: Match.anyValue(), Status: 'Enabled' })]) },
    });
  });

  test('saved Logs Insights queries target the MCP server and link-preview log groups', () => {
    const queries = ofType(template, 'AWS::Logs::QueryDefinition').map(([, q]) => q.Properties!);
    expect(queries.map((q) => q.Name).sort()).toEqual(['Link preview failures', 'MCP slowest tool calls', 'MCP tool error rate', 'MCP tool latency by tool'].map((n) => `phenom-${envName}/${n}`));
    const errorRate = queries.find((q) => q.Name === `phenom-${envName}/MCP tool error rate`)!;
    expect(errorRate.QueryString).toContain('strcontains(outcome, "ok")');
    expect(json(errorRate.LogGroupNames)).toMatch(/ChatMcpServerLogs/);
  });
});

describe('WAF', () => {
  test('is attached to the ALB in production', () => {
    const t = stackTemplate('production');
    const [albId] = ofType(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0];
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { ResourceArn: { Ref: albId } });
    t.resourceCountIs('AWS::WAFv2::WebACL', 1);
    t.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', Match.anyValue());
  });

  test('is off in development by default', () => {
    stackTemplate('development').resourceCountIs('AWS::WAFv2::WebACL', 0);
  });
});
