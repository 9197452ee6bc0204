import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { parseRotationRestarts } from '../../../chat-domain/rotation-event';
import { RestartOnRotation, RotationRestart } from '../../../lib/platform/restart-on-rotation';
import { stackTemplate } from '../../support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is walked freely in assertions
type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };

/** Hasura and Synapse restart after each rotation of the database secret they read at start (issue #15). */
describe.each(['development', 'production'] as const)('the restart after a rotation (%s)', (envName) => {
  const resources = stackTemplate(envName).toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [hasuraSecretId] = ofType('AWS::SecretsManager::SecretTargetAttachment').find(([id]) => id.startsWith('PlatformClientRolesHasuraAttachment'))!;
  const [synapseSecretId] = ofType('AWS::SecretsManager::Secret').find(([, s]) => s.Properties?.Name === `phenom-${envName}-synapse-database`)!;
  const serviceId = (name: string) => ofType('AWS::ECS::Service').find(([, s]) => s.Properties?.ServiceName === `phenom-${envName}-${name}`)![0];
  const [functionId, fn] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('RotationRestartFunction'))!;
  const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties?.EventPattern?.source?.includes('aws.secretsmanager'));

  it("matches Secrets Manager's RotationSucceeded for the Hasura and Synapse secrets only, and targets the restart function", () => {
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties!.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['AWS Service Event via CloudTrail', 'AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['RotationSucceeded'],
        additionalEventData: { SecretId: [{ Ref: hasuraSecretId }, { Ref: synapseSecretId }] },
      },
    });
    expect(rule.Properties!.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] }, RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 8 } })]);
  });

  it("restarts Hasura after Hasura's secret and Synapse after Synapse's, each secret's own services only", () => {
    // RESTARTS is the function's table, joined by CloudFormation from the secret refs and service
    // names: with each token as a placeholder, it is read by the handler's own parser.
    const join = fn.Properties!.Environment.Variables.RESTARTS['Fn::Join'] as [string, unknown[]];
    const token = (part: { Ref?: string; 'Fn::GetAtt'?: [string, string] }) => (part.Ref ? `arn:ref:${part.Ref}` : `name:${part['Fn::GetAtt']![0]}`);
    const table = join[1].map((part) => (typeof part === 'string' ? part : token(part as never))).join(join[0]);
    expect(parseRotationRestarts(table)).toEqual([
      { secretArn: `arn:ref:${hasuraSecretId}`, services: [`name:${serviceId('hasura')}`] },
      { secretArn: `arn:ref:${synapseSecretId}`, services: ['synapse', ...synapseWorkers].map((name) => `name:${serviceId(name)}`) },
    ]);
  });

  // Production runs Synapse workers: they read the same password at start, so they restart with the main process.
  const synapseWorkers = envName === 'production' ? ['synapse-generic', 'synapse-federation-sender-1', 'synapse-media-1'] : [];

  it('may UpdateService the Hasura and Synapse services (main process and workers) and nothing else', () => {
    const role = fn.Properties!.Role['Fn::GetAtt'][0] as string;
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
    const byRef = (refs: Array<{ Ref: string }>) => [...refs].sort((a, b) => a.Ref.localeCompare(b.Ref));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Action: 'ecs:UpdateService', Effect: 'Allow' });
    expect(byRef(statements[0].Resource)).toEqual(byRef(['hasura', 'synapse', ...synapseWorkers].map((name) => ({ Ref: serviceId(name) }))));
  });

  it("rotates Synapse's database secret with the hosted alternating-users rotation, against the RDS master", () => {
    const [masterId] = ofType('AWS::SecretsManager::SecretTargetAttachment').find(([id]) => id.startsWith('PlatformDatabase'))!;
    const schedules = ofType('AWS::SecretsManager::RotationSchedule').filter(([, r]) => r.Properties?.SecretId?.Ref === synapseSecretId);
    expect(schedules).toHaveLength(1);
    const [, schedule] = schedules[0];
    expect(schedule.Properties!.HostedRotationLambda).toMatchObject({ RotationType: 'PostgreSQLMultiUser', MasterSecretArn: { Ref: masterId } });
    expect(schedule.Properties!.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    // After the setup step (which sets the password it first logs in with) and after Synapse exists (which the restart needs).
    const [setupId] = ofType('Custom::SynapseDatabase')[0];
    expect(schedule.DependsOn).toEqual(expect.arrayContaining([setupId, serviceId('synapse')]));
    // The secret names the role and carries what the rotation reads: the Synapse database and the master's ARN.
    const generated = resources[synapseSecretId].Properties!.GenerateSecretString;
    const shape = JSON.stringify(generated.SecretStringTemplate);
    for (const part of ['\\"engine\\":\\"postgres\\"', '\\"dbname\\":\\"synapse\\"', '\\"username\\":\\"synapse\\"', '\\"masterarn\\":\\"', '\\"host\\":\\"']) expect(shape).toContain(part);
    expect(generated).toMatchObject({ GenerateStringKey: 'password', ExcludePunctuation: true });
  });
});

describe('RestartOnRotation refuses a table it cannot serve, leaving nothing in the tree', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Restarts', { env: { account: '111122223333', region: 'us-east-1' } });
  const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', 'arn:aws:ecs:us-east-1:111122223333:cluster/c');
  const service = (name: string) => ecs.FargateService.fromFargateServiceAttributes(stack, name, { cluster, serviceName: name });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf');
  const common = { prefix: 'test', logRetention: logs.RetentionDays.ONE_WEEK, cluster };

  it.each<[string, RotationRestart[], RegExp]>([
    ['no secret', [], /restarts lists no secret/],
    [
      'a secret listed twice',
      [
        { secret, services: [service('a')] },
        { secret, services: [service('b')] },
      ],
      /a secret is listed twice/,
    ],
    ['a secret with no service', [{ secret, services: [] }], /restarts\[0\] lists no service/],
  ])('%s', (_, restarts, message) => {
    expect(() => new RestartOnRotation(stack, 'Bad', { ...common, restarts })).toThrow(message);
    expect(stack.node.tryFindChild('Bad')).toBeUndefined();
  });
});
