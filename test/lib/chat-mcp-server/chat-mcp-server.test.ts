import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ChatMcpServer, ChatMcpServerProps } from '../../../lib/chat-mcp-server';
import { loadConfig } from '../../../lib/config';
import { chatMcpServerPlatformProps, platformProps } from '../../../lib/construct-props';
import { Platform } from '../../../lib/platform';
import { cdkJsonEnvironments, stackTemplate } from '../../support/synth';
import { serviceScaling } from '../../support/scaling';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;
interface ContainerDefinition {
  Name: string;
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets: Array<{ Name: string; ValueFrom: unknown }>;
  [key: string]: unknown;
}

function only(resources: Resources, type: string, predicate: (p: Record<string, unknown>) => boolean = () => true): [string, Record<string, unknown>] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && predicate(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return [found[0]![0], found[0]![1].Properties];
}

const mcpTask = (resources: Resources, prefix: string) => only(resources, 'AWS::ECS::TaskDefinition', (p) => p.Family === `${prefix}-chat-mcp`);
const containerOf = (task: Record<string, unknown>) => (task.ContainerDefinitions as ContainerDefinition[])[0]!;
const envOf = (c: ContainerDefinition) => Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));
const secretNames = (c: ContainerDefinition) => c.Secrets.map((s) => s.Name).sort();

describe.each([
  ['development', 'phenom-development', 'chat-testing.thephenom.app', 30],
  ['production', 'phenom-production', 'chat.thephenom.app', 365],
] as const)('ChatMcpServer in the %s stack', (envName, prefix, domain, retentionDays) => {
  const template = stackTemplate(envName);
  const resources = template.toJSON().Resources as Resources;
  const [taskId, task] = mcpTask(resources, prefix);
  const container = containerOf(task);
  const [serviceId, service] = only(resources, 'AWS::ECS::Service', (p) => p.ServiceName === `${prefix}-chat-mcp`);
  const [targetGroupId, targetGroup] = only(resources, 'AWS::ElasticLoadBalancingV2::TargetGroup', (p) => p.Port === 3001);
  const [clientsSecretId] = only(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === `${prefix}-chat-clients`);

  it('runs one ARM64 Fargate task of 256 CPU / 512 MiB on port 3001', () => {
    expect(task).toMatchObject({
      Cpu: '256',
      Memory: '512',
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    });
    expect(container).toMatchObject({ Name: 'mcp-server', Essential: true, ReadonlyRootFilesystem: true, PortMappings: [expect.objectContaining({ ContainerPort: 3001, Protocol: 'tcp' })] });
    expect(service).toMatchObject({ DesiredCount: 1, LaunchType: 'FARGATE' });
  });

  it('caps the Node heap at three quarters of the task memory, so V8 collects before the task hits its limit', () => {
    // 512 MiB task: 384 MiB of old space, the rest for new space, code, buffers and sockets.
    expect(envOf(container).NODE_OPTIONS).toBe('--max-old-space-size=384');
  });

  it('checks /health at 30 s / 5 s / 3 retries / 60 s start, in the container and on the target group', () => {
    expect(container.HealthCheck).toEqual({
      Command: ['CMD-SHELL', expect.stringContaining("fetch('http://127.0.0.1:3001/health')")],
      Interval: 30,
      Timeout: 5,
      Retries: 3,
      StartPeriod: 60,
    });
    expect(targetGroup).toMatchObject({
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200' },
    });
    expect(service.HealthCheckGracePeriodSeconds).toBe(60);
  });

  it('drains for 30 s on deregistration, longer than the server’s 25 s shutdown grace and equal to the stop timeout', () => {
    expect(targetGroup.TargetGroupAttributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '30' });
    expect(container.StopTimeout).toBe(30);
    expect(envOf(container).SHUTDOWN_GRACE_MS).toBe('25000');
  });

  it('deploys with a circuit breaker that rolls back, in the private subnets and its own security group', () => {
    expect(service.DeploymentConfiguration).toMatchObject({ DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 });
    const network = (service.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; SecurityGroups: Array<{ 'Fn::GetAtt': [string, string] }>; Subnets: Array<{ Ref: string }> } })
      .AwsvpcConfiguration;
    expect(network.AssignPublicIp).toBe('DISABLED');
    expect(network.SecurityGroups).toHaveLength(1);
    const sgId = network.SecurityGroups[0]!['Fn::GetAtt'][0];
    expect(resources[sgId]!.Properties.GroupName).toBe(`${prefix}-chat-mcp`);
    for (const { Ref } of network.Subnets) expect(resources[Ref]!.Properties.Tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Private' });
    // Seed 000: 3001 open to the MCP server's SG from the ALB SG only.
    const ingress = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && r.Properties.FromPort === 3001);
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.Properties).toMatchObject({ GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] }, SourceSecurityGroupId: expect.anything() });
  });

  it('lets the MCP tasks into Hasura on 8080 (BACKEND_TYPE=hasura, the default)', () => {
    const sgId = (service.NetworkConfiguration as { AwsvpcConfiguration: { SecurityGroups: Array<{ 'Fn::GetAtt': [string, string] }> } }).AwsvpcConfiguration.SecurityGroups[0]!['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] } });
  });

  it('routes /mcp and /mcp/* (rule 300) and the protected-resource metadata (rule 301) for the chat host only', () => {
    const rule = (priority: number) => only(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule', (p) => p.Priority === priority)[1];
    const forward = [{ Type: 'forward', TargetGroupArn: { Ref: targetGroupId } }];
    expect(rule(300)).toMatchObject({
      Actions: forward,
      Conditions: expect.arrayContaining([
        { Field: 'host-header', HostHeaderConfig: { Values: [domain] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/mcp', '/mcp/*'] } },
      ]),
    });
    expect(rule(301)).toMatchObject({
      Actions: forward,
      Conditions: expect.arrayContaining([
        { Field: 'host-header', HostHeaderConfig: { Values: [domain] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/.well-known/oauth-protected-resource/mcp'] } },
      ]),
    });
    expect((rule(300).Conditions as unknown[]).length).toBe(2);
    expect(resources[serviceId]!).toMatchObject({ DependsOn: expect.arrayContaining([expect.stringMatching(/McpRule/)]) });
  });

  it('serves the RFC 8414 metadata (rule 302) and names the hosted UI and the interactive client to the server', () => {
    const [, rule] = only(resources, 'AWS::ElasticLoadBalancingV2::ListenerRule', (p) => p.Priority === 302);
    expect(rule).toMatchObject({
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: targetGroupId } }],
      Conditions: expect.arrayContaining([
        { Field: 'host-header', HostHeaderConfig: { Values: [domain] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/.well-known/oauth-authorization-server'] } },
      ]),
    });
    const env = envOf(container);
    expect(JSON.stringify(env.COGNITO_DOMAIN)).toContain('.auth.');
    const [interactiveId] = only(resources, 'AWS::Cognito::UserPoolClient', (p) => p.ClientName === `${prefix}-chat-mcp-interactive`);
    expect(env.INTERACTIVE_CLIENT_IDS).toEqual({ Ref: interactiveId });
  });

  it('outputs the MCP URL, the token endpoint with the client_credentials command, and the interactive client id', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
    const out = (name: string) => Object.entries(outputs).find(([id]) => id.includes(name))?.[1];
    expect(out('McpUrl')?.Value).toBe(`https://${domain}/mcp`);
    expect(out('McpTokenEndpoint')?.Description).toMatch(/grant_type=client_credentials/);
    expect(out('McpTokenEndpoint')?.Description).toContain(`${prefix}-chat-clients`);
    expect(JSON.stringify(out('McpInteractiveClientId')?.Value)).toContain('McpInteractiveClient');
  });

  it('autoscales from 1 to mcp.maxCount on CPU and on ALB requests per target', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 4, ScalableDimension: 'ecs:service:DesiredCount' });
    // 2,400 requests a minute: half of what bench:mcp's CPU per call gives a task at the 60 % CPU target (thresholds.ts).
    expect(serviceScaling(resources, serviceId)).toEqual({
      minCapacity: 1,
      maxCapacity: 4,
      policies: [
        ['ALBRequestCountPerTarget', 2400, 60, 300],
        ['ECSServiceAverageCPUUtilization', 60, 60, 300],
      ],
    });
  });

  it('passes the hasura backend its settings in plain env and every credential through ECS secrets', () => {
    const env = envOf(container);
    expect(env).toMatchObject({ PORT: '3001', HOST: '0.0.0.0', BACKEND_TYPE: 'hasura', LOG_LEVEL: 'info', MCP_RESOURCE_URL: `https://${domain}/mcp` });
    expect(env.COGNITO_USER_POOL_ID).toEqual({ Ref: expect.stringMatching(/UserPool/) });
    expect(JSON.stringify(env.HASURA_ENDPOINT)).toContain('/v1/graphql');
    expect(Object.keys(env).filter((k) => /SECRET|PASSWORD|TOKEN|USERNAME/.test(k))).toEqual([]);
    expect(secretNames(container)).toEqual(['AGENT_CLIENT_ID', 'AGENT_CLIENT_SECRET', 'AGENT_PASSWORD', 'AGENT_USERNAME', 'ALLOWED_CLIENT_IDS']);
    const valueFrom = Object.fromEntries(container.Secrets.map((s) => [s.Name, JSON.stringify(s.ValueFrom)]));
    for (const [name, key] of [
      ['ALLOWED_CLIENT_IDS', 'mcpAgentClientId'],
      ['AGENT_CLIENT_ID', 'agentClientId'],
      ['AGENT_CLIENT_SECRET', 'agentClientSecret'],
      ['AGENT_USERNAME', 'agentUsername'],
      ['AGENT_PASSWORD', 'agentPassword'],
    ]) {
      expect(valueFrom[name]).toContain(clientsSecretId);
      expect(valueFrom[name]).toContain(`:${key}::`);
    }
  });

  it('gives the task role no permissions, and the execution role only the chat-clients secret', () => {
    const taskRole = (task.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const execRole = (task.ExecutionRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policiesOf = (role: string) => Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role));
    expect(policiesOf(taskRole)).toEqual([]);
    expect(resources[taskRole]!.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = policiesOf(execRole).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement);
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(clientsSecretId)]);
    expect(secretStatements.flatMap((s) => [s.Action].flat()).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });

  it(`keeps its logs for ${retentionDays} days`, () => {
    const group = (container.LogConfiguration as { Options: { 'awslogs-group': { Ref: string } } }).Options['awslogs-group'].Ref;
    expect(resources[group]!.Properties).toMatchObject({ LogGroupName: `/ecs/${prefix}-chat-mcp`, RetentionInDays: retentionDays });
    expect(taskId).toBeDefined();
  });
});

describe('ChatMcpServer with other backends', () => {
  const config = (backendType: 'synapse' | 'postgres' | 'hasura') => {
    const envs = cdkJsonEnvironments();
    envs.development!.mcp = { backendType, maxCount: 6 };
    return loadConfig(envs, 'development');
  };
  const synth = (backendType: 'synapse' | 'postgres' | 'hasura', extra: Partial<ChatMcpServerProps> = {}) => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { region: 'us-east-1' } });
    const cfg = config(backendType);
    const platform = new Platform(stack, 'Platform', platformProps(cfg));
    const clientsSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Clients', 'phenom-development-chat-clients');
    new ChatMcpServer(stack, 'Mcp', { ...chatMcpServerPlatformProps(cfg, platform), clientsSecret, ...extra });
    return Template.fromStack(stack);
  };

  it('gives the synapse backend the homeserver URL, the server name and the bot token as a secret', () => {
    const botSecret = (stack: Stack) => secretsmanager.Secret.fromSecretNameV2(stack, 'Bot', 'phenom-development-synapse-bot-token');
    const app = new App();
    const stack = new Stack(app, 'Test', { env: { region: 'us-east-1' } });
    const cfg = config('synapse');
    const platform = new Platform(stack, 'Platform', platformProps(cfg));
    new ChatMcpServer(stack, 'Mcp', {
      ...chatMcpServerPlatformProps(cfg, platform),
      clientsSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Clients', 'phenom-development-chat-clients'),
      synapseUrl: 'http://homeserver.synapse.phenom-development.internal:8008',
      synapseBotTokenSecret: botSecret(stack),
    });
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const container = containerOf(mcpTask(resources, 'phenom-development')[1]);
    expect(envOf(container)).toMatchObject({ BACKEND_TYPE: 'synapse', SYNAPSE_URL: 'http://homeserver.synapse.phenom-development.internal:8008', MATRIX_SERVER_NAME: 'chat-testing.thephenom.app' });
    expect(secretNames(container)).toEqual(['ALLOWED_CLIENT_IDS', 'SYNAPSE_BOT_ACCESS_TOKEN']);
    expect(JSON.stringify(container.Secrets.find((s) => s.Name === 'SYNAPSE_BOT_ACCESS_TOKEN')!.ValueFrom)).toContain('phenom-development-synapse-bot-token');
    expect(JSON.stringify(container.Secrets.find((s) => s.Name === 'SYNAPSE_BOT_ACCESS_TOKEN')!.ValueFrom)).toContain(':accessToken::');
    Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 6 });
  });

  it('gives the postgres backend the database location in env, and its login only as a secret its task role reads at run time', () => {
    const resources = synth('postgres', { agentUserId: 'agent-sub' }).toJSON().Resources as Resources;
    const task = mcpTask(resources, 'phenom-development')[1];
    const container = containerOf(task);
    const env = envOf(container);
    expect(env).toMatchObject({ BACKEND_TYPE: 'postgres', AGENT_USER_ID: 'agent-sub', DB_NAME: 'phenom' });
    // The connection budget reads the pool from the template: it is set, not left to the server's default.
    expect(env.PG_POOL_MAX).toBe('10');
    expect(env.DB_HOST).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Database/), 'Endpoint.Address'] });
    // Injected at start, a rotated password would stay the old one until the task is replaced.
    expect(secretNames(container)).toEqual(['ALLOWED_CLIENT_IDS']);
    const taskRole = (task.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const reads = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: taskRole }]))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
      .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(reads.map((st) => st.Resource)).toEqual([env.DB_SECRET_ARN]);
  });

  /** The sources RDS lets in on 5432 that are the MCP server's own SG. */
  const rdsIngressFromMcp = (t: Template) => {
    const sgs = t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'phenom-development-chat-mcp' } });
    const [mcpSg] = Object.keys(sgs);
    return Object.values(t.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { FromPort: 5432 } })).filter((r) => JSON.stringify(r.Properties.SourceSecurityGroupId).includes(mcpSg!));
  };

  it('lets its own SG into RDS with the postgres backend, and not with the others', () => {
    expect(rdsIngressFromMcp(synth('postgres', { agentUserId: 'agent-sub' }))).toHaveLength(1);
    expect(rdsIngressFromMcp(synth('hasura', { hasuraEndpoint: 'http://h/v1/graphql' }))).toEqual([]);
  });

  it.each([
    ['hasura', /hasuraEndpoint must be set/],
    ['synapse', /synapseUrl and synapseBotTokenSecret must be set/],
    ['postgres', /agentUserId must be set/],
  ] as const)('throws a clear error when the %s backend is selected without its inputs', (backendType, message) => {
    expect(() => synth(backendType)).toThrow(message);
  });

  it('throws a clear error when the postgres backend has no database, or the synapse backend no server name', () => {
    expect(() => synth('postgres', { agentUserId: 'agent-sub', database: undefined })).toThrow(/database must be set when mcp.backendType is "postgres"/);
    expect(() => synth('synapse', { synapseUrl: 'http://h:8008', synapseBotTokenSecret: secretsmanager.Secret.fromSecretNameV2(new Stack(), 'B', 'b'), matrixServerName: undefined })).toThrow(
      /matrixServerName must be set when mcp.backendType is "synapse"/,
    );
  });

  it('matches /mcp itself, not only /mcp/*', () => {
    synth('hasura', { hasuraEndpoint: 'http://h/v1/graphql' }).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 300,
      Conditions: Match.arrayWith([{ Field: 'path-pattern', PathPatternConfig: { Values: Match.arrayWith(['/mcp']) } }]),
    });
  });
});
