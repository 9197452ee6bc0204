import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { ChatFunction, ChatFunctionProps } from '../../../lib/constructs/chat-function';
import { Database } from '../../../lib/platform/database';

// On its own, with no ChatConfig or Platform; bundling is skipped (only the template is read).
function setup() {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  // The platform's Database construct, on an existing instance: its connections and grant are what the function uses.
  const database = new Database(stack, 'Db', {
    engineVersion: rds.PostgresEngineVersion.VER_17_9,
    existing: {
      endpoint: 'db.internal',
      port: 5432,
      instanceIdentifier: 'db',
      securityGroupId: 'sg-0123456789abcdef0',
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:demo-db-AbCdEf',
      databaseName: 'chat',
    },
  });
  const databaseSg = database.securityGroup;
  const props: ChatFunctionProps = { prefix: 'demo', logRetention: logs.RetentionDays.ONE_MONTH, entry: 'link-preview/index.ts', description: 'demo function' };
  return { stack, vpc, databaseSg, database, props };
}

describe('ChatFunction', () => {
  it('reaches the database through its connections and a grant: an RDS SG rule from its own SG, read of the secret, the DB_* settings', () => {
    const { stack, vpc, databaseSg, database, props } = setup();
    const fn = new ChatFunction(stack, 'Worker', { ...props, vpc, database });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: stack.resolve(databaseSg.securityGroupId),
      SourceSecurityGroupId: stack.resolve(fn.securityGroup!.securityGroupId),
      FromPort: 5432,
      Description: 'PostgreSQL from Worker',
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] })]) },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DB_HOST: 'db.internal', DB_NAME: 'chat', POWERTOOLS_SERVICE_NAME: 'demo-worker' }) },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(fn.logRetention).toBe(logs.RetentionDays.ONE_MONTH);
  });

  it('refuses database access outside a VPC, and leaves nothing behind', () => {
    const { stack, database, props } = setup();
    expect(() => new ChatFunction(stack, 'Worker', { ...props, database })).toThrow('Worker: database needs vpc (the database is only reachable from the VPC)');
    expect(stack.node.tryFindChild('Worker')).toBeUndefined();
  });

  it('reads secrets through the Parameters and Secrets extension when asked: its arm64 layer, a 5-minute TTL, and the port lambda/shared/secret-string.ts looks for', () => {
    const { stack, props } = setup();
    new ChatFunction(stack, 'OnPath', { ...props, secretsFromExtension: true });
    new ChatFunction(stack, 'DeployStep', props);
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(
      (r) => r.Properties as { Layers?: string[]; Environment: { Variables: Record<string, string> } },
    );
    const [onPath, deployStep] = functions;
    expect(onPath.Layers).toEqual([expect.stringMatching(/^arn:aws:lambda:us-east-1:\d+:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/)]);
    expect(onPath.Environment.Variables).toMatchObject({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773', SECRETS_MANAGER_TTL: '300', PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'true' });
    expect(deployStep.Layers).toBeUndefined();
    expect(deployStep.Environment.Variables.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT).toBeUndefined();
  });
});
