import { stackTemplate } from '../support/synth';
import { retainedWithFixedName } from '../support/template-walk';

/**
 * Resources that keep a plain DeletionPolicy Retain although they have a fixed physical name, by
 * logical id (construct ids are kept stable: renaming one replaces the resource), with the reason. Everything else with a fixed name uses
 * RetainExceptOnCreate (lib/removal-policy.ts), so a rolled-back first deploy leaves nothing in the
 * way of the retry.
 */
const ALLOWED_PLAIN_RETAIN: Record<string, string> = {
  // Platform/UserPool/UserPool
  PlatformUserPoolA125893D:
    'Deletion protection makes Cognito refuse DeleteUserPool, so a rollback could not delete the pool (ROLLBACK_FAILED); Cognito pool names need not be unique, so a pool left behind does not block the retry.',
};

describe.each(['development', 'production'] as const)('the %s stack', (env) => {
  it('retains nothing with a fixed physical name through the rollback of its first create, beyond the allow-list', () => {
    const offenders = retainedWithFixedName(stackTemplate(env).toJSON())
      .filter((r) => !(r.logicalId in ALLOWED_PLAIN_RETAIN))
      .map((r) => `${r.logicalId} (${r.type}, ${r.property})`);
    expect(offenders).toEqual([]);
  });
});

describe('the allow-list', () => {
  it('names only resources that still need it, each with a reason', () => {
    const retained = retainedWithFixedName(stackTemplate('production').toJSON()).map((r) => r.logicalId);
    for (const [logicalId, reason] of Object.entries(ALLOWED_PLAIN_RETAIN)) {
      expect({ logicalId, listed: retained.includes(logicalId), reasoned: reason.length >= 40 }).toEqual({ logicalId, listed: true, reasoned: true });
    }
  });
});

describe('retainedWithFixedName', () => {
  const template = {
    Resources: {
      Named: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain', Properties: { LogGroupName: '/ecs/phenom-production-synapse' } },
      Joined: {
        Type: 'AWS::Logs::LogGroup',
        DeletionPolicy: 'Retain',
        Properties: { LogGroupName: { 'Fn::Join': ['', ['aws-waf-logs-', { Ref: 'AWS::StackName' }]] } },
      },
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
      FnLogs: {
        Type: 'AWS::Logs::LogGroup',
        DeletionPolicy: 'Retain',
        Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/', { Ref: 'Fn' }]] } },
      },
      Unnamed: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain', Properties: {} },
      ExceptOnCreate: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'RetainExceptOnCreate', Properties: { LogGroupName: '/ecs/x' } },
      NamedFn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'fixed' } },
      NamedFnLogs: {
        Type: 'AWS::Logs::LogGroup',
        DeletionPolicy: 'Retain',
        Properties: { LogGroupName: { 'Fn::Sub': '/aws/lambda/${NamedFn}' } },
      },
    },
  };

  it('flags Retain with a literal, pseudo-parameter or fixed-name-derived name, and nothing else', () => {
    expect(retainedWithFixedName(template).map((r) => r.logicalId)).toEqual(['Named', 'Joined', 'NamedFnLogs']);
  });
});
