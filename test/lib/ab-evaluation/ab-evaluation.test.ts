import { Match } from 'aws-cdk-lib/assertions';
import { AB_LOG_SOURCES, abLogFilterName } from '../../../chat-domain/ab-log-sources';
import { AB_NAMESPACE, AB_METRICS } from '../../../chat-domain/ab-metrics';
import { AB_READER_ROLES } from '../../../lib/ab-evaluation';
import { stackTemplate } from '../../support/synth';

// A synthesized template's JSON, walked by path: its shape is CloudFormation's, not a TypeScript type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resource = { Type: string; Properties: Record<string, Json>; DependsOn?: string[] };

describe('the A/B collector as deployed (development template)', () => {
  const template = stackTemplate('development');
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const idOf = (type: string, predicate: (r: Resource) => boolean) => {
    const ids = Object.entries(resources)
      .filter(([, r]) => r.Type === type && predicate(r))
      .map(([id]) => id);
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  const collectorId = idOf('AWS::Lambda::Function', (r) => r.Properties.Environment?.Variables?.MATRIX_SERVER_NAME !== undefined && r.Properties.Environment?.Variables?.AB_ENVIRONMENT !== undefined);
  const collector = resources[collectorId];
  const setupId = idOf('AWS::Lambda::Function', (r) => r.Properties.Environment?.Variables?.CHAT_READER_SECRET_ARN !== undefined);

  it('runs every 5 minutes in the VPC, reading as the reader roles, never the master secret', () => {
    expect(collector.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    const vars = collector.Properties.Environment.Variables;
    expect(vars).not.toHaveProperty('DB_SECRET_ARN');
    const secretOf = (ref: { Ref: string }) => resources[ref.Ref];
    // The template names the database's host (a token), so it is an Fn::Join, not a plain JSON string.
    const templateOf = (ref: { Ref: string }) => JSON.stringify(secretOf(ref).Properties.GenerateSecretString.SecretStringTemplate);
    expect(templateOf(vars.CHAT_DB_SECRET_ARN)).toContain(`\\"username\\":\\"${AB_READER_ROLES.chat}\\"`);
    expect(templateOf(vars.SYNAPSE_DB_SECRET_ARN)).toContain(`\\"username\\":\\"${AB_READER_ROLES.synapse}\\"`);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [collectorId, 'Arn'] } })],
    });
  });

  it('may put metrics only into Phenom/AB', () => {
    const roleId = collector.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap((r) => r.Properties.PolicyDocument.Statement);
    const put = statements.filter((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'));
    expect(put).toEqual([{ Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': AB_NAMESPACE } } }]);
    // And no other CloudWatch, database-admin or master-secret access.
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('cloudwatch:'))).toEqual(['cloudwatch:PutMetricData']);
  });

  it('is scheduled only once its reader roles exist, which wait for Synapse and the chat migrations', () => {
    const rule = Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.Targets.some((t: { Arn: unknown }) => JSON.stringify(t.Arn).includes(collectorId)))!;
    const stepId = (rule.DependsOn ?? []).find((d) => resources[d].Type === 'Custom::AbReaderRoles');
    expect(stepId).toBeDefined();
    const step = resources[stepId!];
    expect(step.DependsOn?.some((d) => resources[d].Type === 'Custom::SynapseBootstrap')).toBe(true);
    expect(step.DependsOn?.some((d) => resources[d].Type === 'Custom::ChatMigrations')).toBe(true);
    // The step runs as the master user (the platform's database secret), with the reader secrets to set.
    const setup = resources[setupId].Properties.Environment.Variables;
    expect(setup).toHaveProperty('DB_SECRET_ARN');
    expect(setup.SYNAPSE_DB_NAME).toEqual({ 'Fn::GetAtt': [expect.any(String), 'DatabaseName'] });
  });

  it('sends the MCP, Hasura and link-preview log lines to ab-log-metrics through their subscription filters', () => {
    const logMetrics = idOf('AWS::Lambda::Function', (r) => r.Properties.Environment?.Variables?.AB_MCP_BACKEND === 'hasura-lite');
    const filters = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::SubscriptionFilter' && JSON.stringify(r.Properties.DestinationArn).includes(logMetrics));
    expect(filters.map((f) => [f.Properties.FilterName, f.Properties.FilterPattern]).sort()).toEqual(
      Object.values(AB_LOG_SOURCES)
        .map((s) => [abLogFilterName(s), s.filterPattern])
        .sort(),
    );
    // Each on its own log group: the one of the system that writes those lines.
    expect(new Set(filters.map((f) => JSON.stringify(f.Properties.LogGroupName))).size).toBe(3);
  });

  it('puts an A/B section on the dashboard with one line per backend for the usage figures', () => {
    const [dashboard] = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    // The body is a Fn::Join around a few tokens (region, log group names); they sit inside strings.
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const widgets = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')).widgets as { type: string; properties: Record<string, Json> }[];
    const section = widgets.findIndex((w) => w.type === 'text' && String(w.properties.markdown).includes('A/B evaluation'));
    expect(section).toBeGreaterThan(0);
    const graphs = widgets.slice(section).filter((w) => w.type === 'metric');
    for (const [title, metric] of [
      ['A/B: messages per hour', AB_METRICS.messagesSent],
      ['A/B: distinct senders today', AB_METRICS.distinctSendersToday],
      ['A/B: active rooms today', AB_METRICS.activeRoomsToday],
      ['A/B: send latency p50 (ms)', AB_METRICS.sendLatency],
      ['A/B: send latency p99 (ms)', AB_METRICS.sendLatency],
      ['A/B: send error rate (%)', AB_METRICS.sendAttempts],
    ]) {
      const graph = graphs.find((g) => g.properties.title === title)!;
      const lines = (graph.properties.metrics as unknown[][]).filter((m) => m.includes(metric));
      // One line per backend, both on the left axis of the same graph.
      expect(lines.map((m) => m[m.indexOf('Backend') + 1])).toEqual(['matrix', 'hasura-lite']);
      expect(lines.every((m) => m[0] === AB_NAMESPACE && m[m.indexOf('Environment') + 1] === 'phenom-development')).toBe(true);
    }
    const titles = graphs.map((g) => g.properties.title);
    expect(titles).toEqual(expect.arrayContaining(['A/B: MCP tool latency p99 (ms, hasura-lite)', 'A/B: MCP tool error rate (%, hasura-lite)', 'A/B: link-preview time (ms, hasura-lite only)']));
  });
});
