import { Match, Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { renderHomeserverYaml } from '../../../lib/chat-synapse/homeserver-config';
import { stackTemplate } from '../../support/synth';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is walked freely in assertions
type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };

/** The one resource of `type` whose logical id starts with `prefix`. */
function only(template: Template, type: string, prefix: string): [string, Resource] {
  const found = Object.entries(template.findResources(type) as Record<string, Resource>).filter(([id]) => id.startsWith(prefix));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0];
}

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('ChatSynapse (development template)', () => {
  const t = stackTemplate('development');
  const [synapseTaskId, synapseTask] = only(t, 'AWS::ECS::TaskDefinition', 'ChatSynapseTaskDefinition');
  const [, adminTask] = only(t, 'AWS::ECS::TaskDefinition', 'ChatSynapseAdminUiTaskDefinition');
  const [synapseServiceId, synapseService] = only(t, 'AWS::ECS::Service', 'ChatSynapseService');
  const [, adminService] = only(t, 'AWS::ECS::Service', 'ChatSynapseAdminUiService');
  const [synapseTgId] = only(t, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'ChatSynapseTargetGroup');
  const [adminTgId] = only(t, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'ChatSynapseAdminUiTargetGroup');
  const synapseSgId = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'phenom-development-synapse' } }))[0];
  const adminUiSgId = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'phenom-development-synapse-admin' } }))[0];
  const albSgId = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'phenom-development-alb' } }))[0];
  const rdsSgId = Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'phenom-development-rds' } }))[0];
  const container = synapseTask.Properties.ContainerDefinitions[0];
  const edgeContainer = synapseTask.Properties.ContainerDefinitions[1];
  const adminContainer = adminTask.Properties.ContainerDefinitions[0];

  it('sizes the tasks as seed 000 does, on ARM64 Fargate', () => {
    expect(synapseTask.Properties).toMatchObject({ Cpu: '512', Memory: '1024', RequiresCompatibilities: ['FARGATE'], RuntimePlatform: { CpuArchitecture: 'ARM64' } });
    expect(adminTask.Properties).toMatchObject({ Cpu: '256', Memory: '512', RequiresCompatibilities: ['FARGATE'], RuntimePlatform: { CpuArchitecture: 'ARM64' } });
    // Synapse listens on the task's loopback; the edge proxy holds the task's port 8008
    expect(container.PortMappings).toBeUndefined();
    expect(edgeContainer.PortMappings).toEqual([expect.objectContaining({ ContainerPort: 8008 })]);
    expect(adminContainer.PortMappings).toEqual([expect.objectContaining({ ContainerPort: 80 })]);
  });

  it('puts the edge proxy in front of Synapse in the same task: the ALB target, told the edge provider', () => {
    expect(synapseTask.Properties.ContainerDefinitions.map((c: { Name: string; Essential: boolean }) => [c.Name, c.Essential])).toEqual([
      ['synapse', true],
      ['synapse-edge', true],
      // The A/B metrics sidecar (metrics-sidecar.test.ts): when it stops, Synapse's task keeps serving.
      ['synapse-metrics', false],
    ]);
    expect(edgeContainer.Environment).toEqual([{ Name: 'SYNAPSE_EDGE_PROVIDER', Value: 'cloudflare' }]);
    expect(edgeContainer.DependsOn).toEqual([{ ContainerName: 'synapse', Condition: 'START' }]);
    expect(edgeContainer.LogConfiguration.Options['awslogs-stream-prefix']).toBe('synapse-edge');
    expect(synapseService.Properties.LoadBalancers).toEqual([{ ContainerName: 'synapse-edge', ContainerPort: 8008, TargetGroupArn: ref(synapseTgId) }]);
    const yaml = parse(container.Environment.find((e: { Name: string }) => e.Name === 'SYNAPSE_CONFIG_YAML').Value);
    expect(yaml.listeners).toEqual([
      expect.objectContaining({ port: 8009, bind_addresses: ['127.0.0.1'], x_forwarded: true }),
      // Metrics, on the loopback too, for the A/B sidecar alone (metrics-sidecar.test.ts).
      { port: 9000, type: 'metrics', bind_addresses: ['127.0.0.1'] },
    ]);
  });

  it('health-checks Synapse on /health at 30/5/3/60 and the Admin UI on / at 30/5/3/30', () => {
    expect(container.HealthCheck).toEqual({ Command: ['CMD-SHELL', 'curl -fSs http://127.0.0.1:8009/health || exit 1'], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 60 });
    expect(edgeContainer.HealthCheck).toEqual({
      Command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8008/synapse-edge/health || exit 1'],
      Interval: 30,
      Timeout: 5,
      Retries: 3,
      StartPeriod: 10,
    });
    expect(adminContainer.HealthCheck).toEqual({ Command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:80/ || exit 1'], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 30 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8008,
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      UnhealthyThresholdCount: 3,
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 80,
      TargetType: 'ip',
      HealthCheckPath: '/',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      UnhealthyThresholdCount: 3,
    });
  });

  it('runs both services with a rollback circuit breaker, in the seed SGs, with log retention', () => {
    for (const service of [synapseService, adminService]) {
      expect(service.Properties.DeploymentConfiguration.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
      expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
    }
    // one Synapse main process: stop the old task before the new one starts
    expect(synapseService.Properties).toMatchObject({ DesiredCount: 1, DeploymentConfiguration: { MinimumHealthyPercent: 0, MaximumPercent: 100 } });
    expect(synapseService.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups).toEqual([arnOrGroupId(synapseSgId)]);
    expect(adminService.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups).toEqual([arnOrGroupId(adminUiSgId)]);
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/phenom-development-synapse', RetentionInDays: 30 });
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/phenom-development-synapse-admin', RetentionInDays: 30 });
    expect(container.LogConfiguration.LogDriver).toBe('awslogs');
    expect(adminContainer.LogConfiguration.LogDriver).toBe('awslogs');
  });

  it('routes /_matrix/* and /_synapse/client/* (200) and /chat-admin/* (201, behind Cognito sign-in) with the host header', () => {
    const host = { Field: 'host-header', HostHeaderConfig: { Values: ['chat-testing.thephenom.app'] } };
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 200,
      Conditions: Match.arrayEquals([host, { Field: 'path-pattern', PathPatternConfig: { Values: ['/_matrix/*', '/_synapse/client/*'] } }]),
      Actions: [{ Type: 'forward', TargetGroupArn: ref(synapseTgId) }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 201,
      Conditions: Match.arrayEquals([host, { Field: 'path-pattern', PathPatternConfig: { Values: ['/chat-admin', '/chat-admin/*'] } }]),
      Actions: [
        Match.objectLike({ Type: 'authenticate-cognito', Order: 1, AuthenticateCognitoConfig: Match.objectLike({ OnUnauthenticatedRequest: 'authenticate' }) }),
        { Type: 'forward', Order: 2, TargetGroupArn: ref(adminTgId) },
      ],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 202,
      Conditions: Match.arrayEquals([host, { Field: 'path-pattern', PathPatternConfig: { Values: ['/.well-known/matrix/server', '/.well-known/matrix/client'] } }]),
      Actions: [{ Type: 'forward', TargetGroupArn: ref(synapseTgId) }],
    });
  });

  it('puts /_synapse/admin/* behind Cognito sign-in at the ALB (the pool created here, its hosted-UI domain), then Synapse', () => {
    const [clientId] = only(t, 'AWS::Cognito::UserPoolClient', 'ChatSynapseAdminSignInAlbClient');
    const [domainId] = only(t, 'AWS::Cognito::UserPoolDomain', 'PlatformUserPoolHostedUi');
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 191,
      Conditions: Match.arrayWith([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/_synapse/admin/*'] } }]),
      Actions: [
        {
          Type: 'authenticate-cognito',
          Order: 1,
          AuthenticateCognitoConfig: Match.objectLike({ OnUnauthenticatedRequest: 'deny', UserPoolClientId: ref(clientId), UserPoolDomain: ref(domainId) }),
        },
        { Type: 'forward', Order: 2, TargetGroupArn: ref(synapseTgId) },
      ],
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', { ClientName: 'phenom-development-synapse-admin-alb', CallbackURLs: ['https://chat-testing.thephenom.app/oauth2/idpresponse'] });
    const rules = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule') as Record<string, Resource>);
    // no allow-list by default: no source-ip rule and no 403 for the admin path
    expect(rules.filter((r) => r.Properties.Conditions.some((c: { Field: string }) => c.Field === 'source-ip'))).toEqual([]);
    expect(rules.filter((r) => r.Properties.Priority === 199)).toEqual([]);
    // and users cannot give themselves a password (so password login stays the admin bot's)
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 190,
      Conditions: Match.arrayWith([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/_matrix/client/*/account/password*'] } }]),
      Actions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403' }) })],
    });
  });

  it('opens Synapse only to the ALB and its bootstrap Lambda, and RDS to Synapse', () => {
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress') as Record<string, Resource>).map((r) => r.Properties);
    const intoSynapse = ingress.filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(arnOrGroupId(synapseSgId)));
    expect(intoSynapse.every((p) => p.FromPort === 8008 && p.ToPort === 8008)).toBe(true);
    const sources = intoSynapse.map((p) => p.SourceSecurityGroupId['Fn::GetAtt'][0]);
    expect(sources).toContain(albSgId);
    expect(sources.some((s: string) => s.startsWith('ChatSynapseBootstrapHandlerSecurityGroup'))).toBe(true);
    expect(ingress.some((p) => JSON.stringify(p.GroupId) === JSON.stringify(arnOrGroupId(rdsSgId)) && p.FromPort === 5432 && p.SourceSecurityGroupId['Fn::GetAtt'][0] === synapseSgId)).toBe(true);
    expect(
      ingress.some(
        (p) =>
          JSON.stringify(p.GroupId) === JSON.stringify(arnOrGroupId(rdsSgId)) &&
          p.FromPort === 5432 &&
          p.SourceSecurityGroupId['Fn::GetAtt'][0].startsWith('ChatSynapseDatabaseSetupHandlerSecurityGroup'),
      ),
    ).toBe(true);
  });

  it('passes every secret through ECS secrets and none in the plain environment', () => {
    const secrets = Object.fromEntries(container.Secrets.map((s: { Name: string; ValueFrom: unknown }) => [s.Name, JSON.stringify(s.ValueFrom)]));
    expect(Object.keys(secrets).sort()).toEqual([
      'SYNAPSE_DB_PASSWORD',
      'SYNAPSE_DB_USER',
      'SYNAPSE_FORM_SECRET',
      'SYNAPSE_MACAROON_SECRET_KEY',
      'SYNAPSE_OIDC_CLIENT_ID',
      'SYNAPSE_OIDC_CLIENT_SECRET',
      'SYNAPSE_REGISTRATION_SHARED_SECRET',
      'SYNAPSE_SIGNING_KEY_SEED',
    ]);
    expect(secrets.SYNAPSE_REGISTRATION_SHARED_SECRET).toContain('ChatSynapseSecretsRegistrationSharedSecret');
    expect(secrets.SYNAPSE_DB_PASSWORD).toMatch(/ChatSynapseSecretsDatabase.*:password::/);
    // the C4 chat-clients secret of ChatShared, one JSON key each
    expect(secrets.SYNAPSE_OIDC_CLIENT_ID).toMatch(/ChatSharedClientsSecret.*:synapseOidcClientId::/);
    expect(secrets.SYNAPSE_OIDC_CLIENT_SECRET).toMatch(/ChatSharedClientsSecret.*:synapseOidcClientSecret::/);

    const env = Object.fromEntries(container.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(Object.keys(env).sort()).toEqual(['SYNAPSE_CONFIG_YAML', 'SYNAPSE_DB_HOST', 'SYNAPSE_DB_PORT', 'SYNAPSE_MEDIA_BUCKET', 'SYNAPSE_OIDC_ISSUER']);
    expect(env.SYNAPSE_CONFIG_YAML).toBe(
      renderHomeserverYaml({
        serverName: 'chat-testing.thephenom.app',
        publicBaseUrl: 'https://chat-testing.thephenom.app',
        awsRegion: 'us-east-1',
        historyRetentionDays: 90,
        autoJoin: { roomAliases: ['#community:chat-testing.thephenom.app'], inviterLocalpart: 'phenom-bot' },
        adminUiPath: '/chat-admin',
      }),
    );
    expect(parse(env.SYNAPSE_CONFIG_YAML as string).registration_shared_secret).toBe('${SYNAPSE_REGISTRATION_SHARED_SECRET}');
    expect(JSON.stringify(env.SYNAPSE_OIDC_ISSUER)).toMatch(/https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\//);
    expect(JSON.stringify(env.SYNAPSE_MEDIA_BUCKET)).toContain('ChatSynapseMediaBucket');
  });

  it('generates the Synapse secrets at deploy time', () => {
    for (const name of ['registration-shared-secret', 'macaroon-secret-key', 'form-secret', 'signing-key-seed', 'admin-bot-password', 'admin-bot-token', 'database']) {
      t.hasResourceProperties('AWS::SecretsManager::Secret', { Name: `phenom-development-synapse-${name}`, GenerateSecretString: Match.anyValue(), SecretString: Match.absent() });
    }
  });

  it('keeps media in an encrypted, private, TLS-only, versioned bucket reached with the task role', () => {
    const [bucketId] = only(t, 'AWS::S3::Bucket', 'ChatSynapseMediaBucket');
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(bucketId),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const taskRoleId = synapseTask.Properties.TaskRoleArn['Fn::GetAtt'][0];
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(taskRoleId)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'], Resource: { 'Fn::Join': ['', [arnOf(bucketId), '/*']] } }),
          Match.objectLike({ Action: 's3:ListBucket', Resource: arnOf(bucketId) }),
        ]),
      },
    });
  });

  it('creates the database before Synapse starts and bootstraps once Synapse is deployed', () => {
    const [dbSetupId] = only(t, 'Custom::SynapseDatabase', 'ChatSynapse');
    const [, bootstrap] = only(t, 'Custom::SynapseBootstrap', 'ChatSynapse');
    expect(synapseService.DependsOn).toEqual(expect.arrayContaining([dbSetupId]));
    expect(bootstrap.DependsOn).toEqual(expect.arrayContaining([synapseServiceId]));
    expect(bootstrap.Properties.TaskDefinitionArn).toEqual(ref(synapseTaskId));
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SYNAPSE_URL: 'http://homeserver.synapse.phenom-development.internal:8008', BOT_LOCALPART: 'phenom-bot' }) },
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
    });
    t.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'synapse.phenom-development.internal' });
  });
});

describe('ChatSynapse (production template)', () => {
  const t = stackTemplate('production');

  it('uses the production server name, keeps logs a year and retains the media bucket', () => {
    const [, task] = only(t, 'AWS::ECS::TaskDefinition', 'ChatSynapseTaskDefinition');
    const env = Object.fromEntries(task.Properties.ContainerDefinitions[0].Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    const config = parse(env.SYNAPSE_CONFIG_YAML as string);
    expect(config.server_name).toBe('thephenom.app');
    expect(config.public_baseurl).toBe('https://chat.thephenom.app/');
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/phenom-production-synapse', RetentionInDays: 365 });
    const [, bucket] = only(t, 'AWS::S3::Bucket', 'ChatSynapseMediaBucket');
    expect([bucket.DeletionPolicy, bucket.UpdateReplacePolicy]).toEqual(['RetainExceptOnCreate', 'Retain']);
  });
});

/** How a task or rule refers to a security group: its GroupId attribute. */
function arnOrGroupId(sgLogicalId: string) {
  return { 'Fn::GetAtt': [sgLogicalId, 'GroupId'] };
}
