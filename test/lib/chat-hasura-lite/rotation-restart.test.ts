import { stackTemplate } from '../../support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is walked freely in assertions
type Resource = { Type: string; Properties?: Record<string, any>; DependsOn?: string[] };

/** Hasura restarts itself after each rotation of its role's secret (issue #15). */
describe.each(['development', 'production'] as const)('the Hasura restart after a rotation (%s)', (envName) => {
  const resources = stackTemplate(envName).toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [hasuraSecretId] = ofType('AWS::SecretsManager::SecretTargetAttachment').find(([id]) => id.startsWith('PlatformClientRolesHasuraAttachment'))!;
  const [hasuraServiceId] = ofType('AWS::ECS::Service').find(([, s]) => s.Properties?.ServiceName === `phenom-${envName}-hasura`)!;
  const [functionId, fn] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('HasuraRotationRestartFunction'))!;
  const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties?.EventPattern?.source?.includes('aws.secretsmanager'));

  it("matches Secrets Manager's RotationSucceeded for the Hasura role secret only, and targets the restart function", () => {
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    expect(rule.Properties!.EventPattern).toEqual({
      source: ['aws.secretsmanager'],
      'detail-type': ['AWS Service Event via CloudTrail'],
      detail: { eventSource: ['secretsmanager.amazonaws.com'], eventName: ['RotationSucceeded'], additionalEventData: { SecretId: [{ Ref: hasuraSecretId }] } },
    });
    expect(rule.Properties!.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] }, RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 8 } })]);
    expect(fn.Properties!.Environment.Variables).toMatchObject({ SERVICE: { 'Fn::GetAtt': [hasuraServiceId, 'Name'] }, SECRET_ARN: { Ref: hasuraSecretId } });
  });

  it('may UpdateService the Hasura service and nothing else', () => {
    const role = fn.Properties!.Role['Fn::GetAtt'][0] as string;
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties!.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'ecs:UpdateService', Effect: 'Allow', Resource: { Ref: hasuraServiceId } }]);
  });
});
