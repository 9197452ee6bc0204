import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ChatLinkPreview } from '../../../lib/chat-link-preview';
import { loadConfig } from '../../../lib/config';
import { chatLinkPreviewProps, platformProps } from '../../../lib/construct-props';
import { Platform } from '../../../lib/platform';
import { cdkJsonEnvironments, stackTemplate } from '../../support/synth';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;

const DESCRIPTION = 'Resolves phenom_link chat messages into link_previews (Hasura event-trigger webhook)';

function onlyId(resources: Resources, type: string, predicate: (props: Record<string, unknown>) => boolean): string {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && predicate(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
}

/** The statements of every IAM policy attached to a role. */
function statementsOfRole(resources: Resources, roleId: string): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Effect: string }[] }).Statement);
}

const actionsOf = (s: { Action: string | string[] }) => [s.Action].flat();

describe.each([
  ['development', 30],
  ['production', 365],
] as const)('ChatLinkPreview in %s', (envName, retentionDays) => {
  const template = stackTemplate(envName);
  const resources = template.toJSON().Resources as Resources;
  const functionId = onlyId(resources, 'AWS::Lambda::Function', (p) => p.Description === DESCRIPTION);
  const fn = resources[functionId].Properties as {
    Role: { 'Fn::GetAtt': [string, string] };
    VpcConfig: { SubnetIds: { Ref: string }[]; SecurityGroupIds: { 'Fn::GetAtt': [string, string] }[] };
    Environment: { Variables: Record<string, unknown> };
    LoggingConfig: { LogGroup: { Ref: string } };
  };
  const roleId = fn.Role['Fn::GetAtt'][0];
  const webhookSecretId = onlyId(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === `phenom-${envName}-link-preview-webhook`);

  it('runs on Node.js 22, arm64, 256 MiB, with a timeout inside Hasura’s 30 s webhook timeout', () => {
    expect(resources[functionId].Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 256, Timeout: 15, Handler: 'index.handler' });
  });

  it('is placed in the private subnets with its own security group, which alone may reach RDS on 5432', () => {
    expect(fn.VpcConfig.SubnetIds.length).toBeGreaterThanOrEqual(2);
    for (const { Ref } of fn.VpcConfig.SubnetIds) {
      expect(resources[Ref].Properties.Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Private' });
    }
    expect(fn.VpcConfig.SecurityGroupIds).toHaveLength(1);
    const functionSg = fn.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [functionSg, 'GroupId'] },
    });
  });

  it('gets its settings from config and the secrets by ARN only', () => {
    const vars = fn.Environment.Variables;
    expect(vars).toMatchObject({
      WEBHOOK_SECRET_ARN: { Ref: webhookSecretId },
      PHENOM_GRAPHQL_URL: envName === 'production' ? 'https://api.thephenom.app/v1/graphql' : 'https://api-testing.thephenom.app/v1/graphql',
      PHENOM_TIMEOUT_MS: '5000',
      PREVIEW_URL_TEMPLATE: 'https://thephenom.app/p/{phenomId}',
      CACHE_TTL_HOURS: '24',
      // Its own role's login (issue #15), never the master secret.
      DB_SECRET_ARN: { Ref: expect.stringMatching(/^PlatformClientRolesLinkPreviewAttachment/) },
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    });
    // No Phenom credentials are configured in cdk.json, so none are read.
    expect(vars).not.toHaveProperty('PHENOM_CREDENTIALS_SECRET_ARN');
  });

  it('generates the webhook secret in Secrets Manager as 48 header-safe characters', () => {
    expect(resources[webhookSecretId].Properties.GenerateSecretString).toEqual({ PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false });
    expect(resources[webhookSecretId].Properties).not.toHaveProperty('SecretString');
  });

  it('may read exactly the webhook and database secrets, and nothing else from Secrets Manager', () => {
    const secretStatements = statementsOfRole(resources, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    const readActions = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
    for (const s of secretStatements) {
      expect(s.Effect).toBe('Allow');
      expect(actionsOf(s).sort()).toEqual(readActions);
    }
    const readable = secretStatements.flatMap((s) => [s.Resource].flat());
    expect(readable).toContainEqual({ Ref: webhookSecretId });
    expect(readable).toContainEqual(fn.Environment.Variables.DB_SECRET_ARN);
    expect(readable).toHaveLength(2);
    expect(JSON.stringify(readable)).not.toContain('*');
  });

  it('is reachable through a function URL with AuthType NONE, guarded by the secret header in code', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
    expect(template.findResources('AWS::Lambda::Url', { Properties: { Cors: Match.anyValue() } })).toEqual({});
    // Public function URLs need both permissions since Oct 2025: InvokeFunctionUrl and InvokeFunction via the URL.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      InvokedViaFunctionUrl: true,
      Principal: '*',
    });
  });

  it(`logs to its own log group kept ${retentionDays} days`, () => {
    expect(resources[fn.LoggingConfig.LogGroup.Ref].Properties.RetentionInDays).toBe(retentionDays);
  });

  it('outputs the webhook URL and the secret ARN for the Hasura layer', () => {
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Value: unknown }>).map((o) => o.Value);
    expect(outputs).toContainEqual({ 'Fn::GetAtt': [onlyId(resources, 'AWS::Lambda::Url', () => true), 'FunctionUrl'] });
    expect(outputs).toContainEqual({ Ref: webhookSecretId });
  });
});

describe('ChatLinkPreview with Phenom credentials configured', () => {
  const credentialsArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom/api-credentials-AbC123';
  const envs = cdkJsonEnvironments();
  (envs.development.linkPreview as Record<string, unknown>).phenomCredentialsSecretArn = credentialsArn;
  (envs.development.linkPreview as Record<string, unknown>).cacheTtlHours = 6;
  const config = loadConfig(envs, 'development');
  const stack = new Stack(new App(), 'LinkPreviewOnly', { env: { region: 'us-east-1' } });
  const platform = new Platform(stack, 'Platform', platformProps(config));
  const linkPreview = new ChatLinkPreview(stack, 'ChatLinkPreview', chatLinkPreviewProps(stack, config, platform));
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const functionId = onlyId(resources, 'AWS::Lambda::Function', (p) => p.Description === DESCRIPTION);
  const fn = resources[functionId].Properties as { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> } };

  it('passes the credentials secret ARN and the configured TTL to the function', () => {
    expect(fn.Environment.Variables).toMatchObject({ PHENOM_CREDENTIALS_SECRET_ARN: credentialsArn, CACHE_TTL_HOURS: '6' });
    expect(linkPreview.phenomCredentialsSecret?.secretArn).toBe(credentialsArn);
  });

  it('grants read of that exact secret and of no other foreign one', () => {
    const statements = statementsOfRole(resources, fn.Role['Fn::GetAtt'][0]).filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    const readable = statements.flatMap((s) => [s.Resource].flat());
    expect(readable).toContainEqual(credentialsArn);
    expect(readable).toHaveLength(3);
  });
});

describe('ChatLinkPreview outside this app (flat props only)', () => {
  // No bundling: the assertions read the template.
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Standalone', { env: { region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const dbSecurityGroup = new ec2.SecurityGroup(stack, 'DbSg', { vpc });
  const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
    instanceIdentifier: 'chat',
    instanceEndpointAddress: 'chat.example.eu-west-1.rds.amazonaws.com',
    port: 5432,
    securityGroups: [dbSecurityGroup],
  });
  const dbSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'DbSecret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-db-AbC123');
  new ChatLinkPreview(stack, 'LinkPreview', {
    prefix: 'acme-test',
    logRetention: logs.RetentionDays.ONE_WEEK,
    vpc,
    database: { instance, secret: dbSecret, databaseName: 'chat', connections: instance.connections, grantReadCredentials: (grantee) => dbSecret.grantRead(grantee) },
    phenomGraphqlUrl: 'https://api.example.com/v1/graphql',
    previewUrlTemplate: 'https://example.com/c/{phenomId}',
    cacheTtlHours: 12,
  });
  const template = Template.fromStack(stack);

  it('takes its settings, database and name prefix from the props it is given', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: DESCRIPTION,
      Environment: {
        Variables: Match.objectLike({
          PHENOM_GRAPHQL_URL: 'https://api.example.com/v1/graphql',
          PREVIEW_URL_TEMPLATE: 'https://example.com/c/{phenomId}',
          CACHE_TTL_HOURS: '12',
          DB_HOST: 'chat.example.eu-west-1.rds.amazonaws.com',
          DB_NAME: 'chat',
          DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-db-AbC123',
        }),
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'acme-test-link-preview-webhook' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('reads no Phenom credentials when none are passed', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: DESCRIPTION } }))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Environment.Variables).not.toHaveProperty('PHENOM_CREDENTIALS_SECRET_ARN');
  });

  it("lets the function into the database through the database's own security group", () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSg'), 'GroupId'] },
      FromPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LinkPreviewFunctionSecurityGroup'), 'GroupId'] },
    });
  });
});
