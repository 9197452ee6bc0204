import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatHasuraLite, HASURA_RULE_PRIORITY } from '../../../lib/chat-hasura-lite';
import { HASURA_START_SCRIPT } from '../../../lib/chat-hasura-lite/engine-start-script';
import { metadataContentHash } from '../../../lib/chat-hasura-lite/metadata';
import { ChatConfig, loadConfig } from '../../../lib/config';
import { chatHasuraLiteProps } from '../../../lib/construct-props';
import { platformProps } from '../../../lib/construct-props';
import { Platform } from '../../../lib/platform';
import { cdkJsonEnvironments, stackTemplate } from '../../support/synth';
import { matchesFilterPattern } from '../../support/aws/filter-pattern';
import { serviceScaling } from '../../support/scaling';
import { hasuraHttpLogLine, hasuraLoggingSettings } from '../../support/hasura-http-log';
import { AB_LOG_SOURCES, HASURA_SEND_OPERATION } from '../../../chat-domain/ab-log-sources';

/**
 * ChatHasuraLite in a stack of its own (the platform plus a link-preview webhook
 * double: a real secret and a URL), synthesized with the same cdk-nag checks as the
 * app, so these assertions do not depend on the rest of the stack being finished.
 */
function synth(envName: 'development' | 'production', edit?: (env: Record<string, unknown>) => void): { template: Template; config: ChatConfig } {
  const envs = cdkJsonEnvironments();
  edit?.(envs[envName]);
  const config = loadConfig(envs, envName);
  // No Lambda bundling: these assertions read the template, and esbuild runs in the global synth.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'HasuraTest', { env: { region: config.region } });
  const platform = new Platform(stack, 'Platform', platformProps(config));
  const webhookSecret = new secretsmanager.Secret(stack, 'WebhookSecret', { generateSecretString: { passwordLength: 48, excludePunctuation: true } });
  Validations.of(webhookSecret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test double of the link-preview webhook secret' });
  const hasuraClient = new cognito.UserPoolClient(stack, 'HasuraClient', { userPool: platform.userPool.userPool });
  new ChatHasuraLite(stack, 'ChatHasuraLite', chatHasuraLiteProps(stack, config, platform, { webhookUrl: 'https://abc.lambda-url.us-east-1.on.aws/', webhookSecret }, [hasuraClient]));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
  return { template: Template.fromStack(stack), config };
}

type Container = {
  Name: string;
  Image: unknown;
  EntryPoint?: string[];
  Command?: string[];
  User?: string;
  Environment: { Name: string; Value: unknown }[];
  Secrets: { Name: string; ValueFrom: unknown }[];
  HealthCheck: { Command: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
};

function hasuraContainer(template: Template): Container {
  const defs = template.findResources('AWS::ECS::TaskDefinition', { Properties: { Family: Match.stringLikeRegexp('-hasura$') } });
  const [def] = Object.values(defs);
  return (def.Properties.ContainerDefinitions as Container[]).find((c) => c.Name === 'hasura')!;
}
const env = (c: Container) => Object.fromEntries(c.Environment.map((e) => [e.Name, e.Value]));

describe('ChatHasuraLite: created Hasura engine', () => {
  let template: Template;
  let config: ChatConfig;
  beforeAll(() => {
    ({ template, config } = synth('development'));
  });

  it('runs the pinned Hasura v2 image, served from the CDK assets repository in ECR, on Fargate ARM64 in the private subnets, without a public IP', () => {
    const c = hasuraContainer(template);
    expect(config.hasura.mode === 'create' && config.hasura.image).toMatch(/^hasura\/graphql-engine:v2\.\d+\.\d+$/);
    // Built from docker/hasura (FROM that tag) at deploy time; never pulled from Docker Hub when a task starts.
    expect(JSON.stringify(c.Image)).toMatch(/\.dkr\.ecr\..*cdk-hnb659fds-container-assets-/);
    expect(JSON.stringify(c.Image)).not.toContain('hasura/graphql-engine');
    expect(c.User).toBe('1001:1001');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: Match.stringLikeRegexp('-hasura$'),
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Cpu: String(config.services.hasura.cpu),
      Memory: String(config.services.hasura.memoryMiB),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: `${config.prefix}-hasura`,
      LaunchType: 'FARGATE',
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
  });

  it('keeps every secret out of the plain environment: admin secret, DB credentials and webhook secret come from ECS secrets', () => {
    const c = hasuraContainer(template);
    const plain = env(c);
    for (const name of ['HASURA_GRAPHQL_ADMIN_SECRET', 'HASURA_GRAPHQL_DATABASE_URL', 'DB_PASSWORD', 'DB_USER', 'LINK_PREVIEW_WEBHOOK_SECRET', 'HASURA_GRAPHQL_ACCESS_KEY']) {
      expect(plain).not.toHaveProperty(name);
    }
    const secrets = Object.fromEntries(c.Secrets.map((s) => [s.Name, JSON.stringify(s.ValueFrom)]));
    expect(Object.keys(secrets).sort()).toEqual(['DB_PASSWORD', 'DB_USER', 'HASURA_GRAPHQL_ADMIN_SECRET', 'LINK_PREVIEW_WEBHOOK_SECRET']);
    expect(secrets.DB_PASSWORD).toMatch(/:password::/);
    expect(secrets.DB_USER).toMatch(/:username::/);
    expect(secrets.HASURA_GRAPHQL_ADMIN_SECRET).toContain('AdminSecret');
    // Nothing in the template spells out a database URL with credentials.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/postgres(ql)?:\/\/[^$"]*:[^$"]*@/);
  });

  it('builds the database URL at start from the injected credentials (sh -c entrypoint)', () => {
    const c = hasuraContainer(template);
    expect(c.EntryPoint).toEqual(['/bin/sh', '-c']);
    expect(c.Command).toEqual([HASURA_START_SCRIPT]);
    expect(Object.keys(env(c))).toEqual(expect.arrayContaining(['DB_HOST', 'DB_PORT', 'DB_NAME']));
  });

  it('turns the console and dev mode off, leaves the unauthorized role unset, and enables only the graphql and metadata APIs', () => {
    const plain = env(hasuraContainer(template));
    expect(plain.HASURA_GRAPHQL_ENABLE_CONSOLE).toBe('false');
    expect(plain.HASURA_GRAPHQL_DEV_MODE).toBe('false');
    expect(plain.HASURA_GRAPHQL_ENABLED_APIS).toBe('graphql,metadata');
    expect(plain).not.toHaveProperty('HASURA_GRAPHQL_UNAUTHORIZED_ROLE');
    // The JWKS is refetched only when Cognito's response says when it expires; this log says whether it will be.
    expect(String(plain.HASURA_GRAPHQL_ENABLED_LOG_TYPES).split(',')).toEqual(expect.arrayContaining(['startup', 'http-log', 'jwk-refresh-log']));
    expect(plain.LINK_PREVIEW_WEBHOOK_URL).toBe('https://abc.lambda-url.us-east-1.on.aws/');
  });

  it('logs the operation name of every GraphQL request, so the A/B send source sees successes and failures alike', () => {
    const plain = env(hasuraContainer(template));
    expect(plain.HASURA_GRAPHQL_HTTP_LOG_QUERY_ONLY_ON_ERROR).toBe('true');
    // The lines the engine writes with exactly this environment (graphql-engine's Logging.hs, modelled in test/support).
    const settings = hasuraLoggingSettings(plain as Record<string, string>);
    const body = { query: 'mutation SendMessage { x }', variables: {}, operationName: HASURA_SEND_OPERATION };
    const lines = [
      hasuraHttpLogLine(settings, { body, requestId: 'a', seconds: 0.01 }, { responseSize: 10 })!,
      hasuraHttpLogLine(settings, { body, requestId: 'b', seconds: 0.01 }, { error: { error: 'x', path: '$', code: 'unexpected' } })!,
    ];
    expect(lines.filter((l) => matchesFilterPattern(AB_LOG_SOURCES.hasuraSend.filterPattern, l))).toEqual(lines);
    // No query-log: it would log every request's variables and generated SQL.
    expect(settings.enabledLogTypes.has('query-log')).toBe(false);
  });

  it('configures JWT for Cognito ID tokens with stringified_json claims (contract C3)', () => {
    const jwt = JSON.stringify(env(hasuraContainer(template)).HASURA_GRAPHQL_JWT_SECRET);
    expect(jwt).toContain('\\"type\\":\\"RS256\\"');
    expect(jwt).toContain('\\"claims_namespace\\":\\"https://hasura.io/jwt/claims\\"');
    expect(jwt).toContain('\\"claims_format\\":\\"stringified_json\\"');
    expect(jwt).not.toContain('claims_map');
    expect(jwt).toMatch(/\\"jwk_url\\":\\"https:\/\/cognito-idp\.us-east-1\..*\/\.well-known\/jwks\.json\\"/);
    expect(jwt).toMatch(/\\"issuer\\":\\"https:\/\/cognito-idp\.us-east-1\./);
    expect(jwt).toContain('UserPool');
    // The clients given to chatHasuraLiteProps, and only they, are the audience (jwt-audience.test.ts runs it).
    expect(jwt).toMatch(/\\"audience\\":\\"",\{"Ref":"HasuraClient[0-9A-F]+"\},"\\"\}"\]/);
  });

  it('checks health on /healthz in the container and on the target group', () => {
    const hc = hasuraContainer(template).HealthCheck;
    expect(hc.Command).toEqual(['CMD-SHELL', 'curl -fsS http://localhost:8080/healthz || exit 1']);
    expect(hc).toMatchObject({ Interval: 30, Timeout: 5, Retries: 3 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      TargetType: 'ip',
      HealthCheckPath: '/healthz',
      Matcher: { HttpCode: '200' },
    });
  });

  it('exposes exactly /v1/graphql on the ALB (priority 400, host header), and no metadata, query or console path', () => {
    const rules = template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule');
    const hasuraRules = Object.values(rules).filter((r) => JSON.stringify(r.Properties.Actions).includes('TargetGroup'));
    expect(hasuraRules).toHaveLength(1);
    const [rule] = hasuraRules;
    expect(rule.Properties.Priority).toBe(HASURA_RULE_PRIORITY);
    expect(rule.Properties.Conditions).toEqual(
      expect.arrayContaining([
        { Field: 'host-header', HostHeaderConfig: { Values: [config.domainName] } },
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/v1/graphql'] } },
      ]),
    );
    const allPaths = Object.values(rules).flatMap((r) => (r.Properties.Conditions as { PathPatternConfig?: { Values: string[] } }[]).flatMap((c) => c.PathPatternConfig?.Values ?? []));
    for (const path of allPaths) expect(path).not.toMatch(/metadata|console|v2\/query|v1\/query|\/v1\/\*|^\/\*$|pg_dump|v1alpha1/);
  });

  it('opens 8080 only to the ALB and the metadata applier (the stack adds the MCP server with the hasura backend), and lets the engine into RDS', () => {
    const sgs = template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: `${config.prefix}-hasura` } });
    const [sgId] = Object.keys(sgs);
    const ingress = [
      ...((sgs[sgId].Properties.SecurityGroupIngress as unknown[]) ?? []),
      ...Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
        .map((r) => r.Properties)
        .filter((p) => JSON.stringify(p.GroupId).includes(sgId)),
    ] as { FromPort: number; ToPort: number; CidrIp?: string; SourceSecurityGroupId?: unknown }[];
    expect(ingress.length).toBe(2);
    for (const rule of ingress) {
      expect(rule).toMatchObject({ FromPort: 8080, ToPort: 8080 });
      expect(rule.CidrIp).toBeUndefined();
    }
    const sources = ingress.map((r) => JSON.stringify(r.SourceSecurityGroupId));
    expect(sources.some((s) => s.includes('LoadBalancerSecurityGroup'))).toBe(true);
    expect(sources.some((s) => s.includes('MetadataFunction'))).toBe(true);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
      Description: Match.stringLikeRegexp('Hasura'),
    });
  });

  it('generates the admin secret in Secrets Manager', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: `${config.prefix}-hasura-admin-secret`,
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
  });

  it('applies the metadata after the migrations and the engine, with the directory hash and the internal endpoint', () => {
    const resources = template.findResources('Custom::HasuraMetadata');
    const [[id, res]] = Object.entries(resources);
    expect(res.Properties).toMatchObject({
      Endpoint: `http://engine.hasura.${config.prefix}.internal:8080`,
      Ownership: 'exclusive',
      MetadataHash: metadataContentHash(),
    });
    const deps = res.DependsOn as string[];
    expect(deps.some((d) => d.startsWith('ChatHasuraLiteMigrationsCustomResource'))).toBe(true);
    expect(deps.some((d) => /ChatHasuraLiteHasuraEngineService/.test(d))).toBe(true);
    expect(id).toBeTruthy();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Applies hasura-metadata'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 540,
      Environment: { Variables: Match.objectLike({ HASURA_ADMIN_SECRET_ARN: Match.anyValue() }) },
      VpcConfig: Match.anyValue(),
    });
  });

  it('registers the engine in Cloud Map for in-VPC clients', () => {
    template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: `hasura.${config.prefix}.internal` });
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', { Name: 'engine' });
  });

  it('runs two engine tasks in production, scaling to six on CPU and requests per target', () => {
    const prod = loadConfig(cdkJsonEnvironments(), 'production');
    const production = stackTemplate('production');
    production.hasResourceProperties('AWS::ECS::Service', { ServiceName: `${prod.prefix}-hasura`, DesiredCount: 2 });
    const resources = production.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const serviceId = Object.keys(resources).find((id) => resources[id].Properties?.ServiceName === `${prod.prefix}-hasura`)!;
    expect(serviceScaling(resources, serviceId)).toEqual({
      minCapacity: 2,
      maxCapacity: 6,
      policies: [
        ['ALBRequestCountPerTarget', 6000, 60, 300],
        ['ECSServiceAverageCPUUtilization', 60, 60, 300],
      ],
    });
  });

  it('sizes the metadata pool (HASURA_GRAPHQL_PG_CONNECTIONS) instead of leaving it at the engine default of 50', () => {
    expect(env(hasuraContainer(template)).HASURA_GRAPHQL_PG_CONNECTIONS).toBe('5');
  });
});

describe('ChatHasuraLite: existing Hasura engine (config.hasura.mode "import")', () => {
  const endpoint = 'https://hasura.thephenom.app/v1/graphql';
  const adminSecretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:phenom-hasura-admin-AbCdEf';
  let template: Template;
  let construct: { graphqlEndpoint: string };
  beforeAll(() => {
    ({ template } = synth('development', (e) => {
      e.hasura = { mode: 'import', endpoint, adminSecretArn };
    }));
    construct = { graphqlEndpoint: endpoint };
  });

  it('creates no engine, and applies the metadata to the configured endpoint as a shared engine', () => {
    template.resourceCountIs('AWS::ECS::Service', 0);
    template.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 0);
    template.hasResourceProperties('Custom::HasuraMetadata', { Endpoint: 'https://hasura.thephenom.app', Ownership: 'shared' });
    expect(construct.graphqlEndpoint).toBe(endpoint);
  });

  it('reads the configured admin secret at run time only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Applies hasura-metadata'),
      Environment: { Variables: Match.objectLike({ HASURA_ADMIN_SECRET_ARN: adminSecretArn }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: adminSecretArn })]) },
    });
  });
});

describe('the whole development stack', () => {
  it('forwards /v1/graphql to Hasura and no rule of any construct reaches the metadata API, the query APIs or the console', () => {
    const template = stackTemplate('development');
    const rules = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    const paths = rules.flatMap((r) => (r.Properties.Conditions as { PathPatternConfig?: { Values: string[] } }[]).flatMap((c) => c.PathPatternConfig?.Values ?? []));
    expect(paths).toContain('/v1/graphql');
    for (const path of paths) expect(path).not.toMatch(/^\/(v1\/metadata|v1\/query|v2\/query|v1alpha1|console|\*)/);
    const graphql = rules.filter((r) => JSON.stringify(r.Properties.Conditions).includes('/v1/graphql'));
    expect(graphql.map((r) => r.Properties.Priority)).toEqual([HASURA_RULE_PRIORITY]);
    expect(rules.filter((r) => r.Properties.Priority === HASURA_RULE_PRIORITY)).toHaveLength(1);
  });
});

describe('ChatHasuraLite refuses an engine choice that is not exactly one, building nothing', () => {
  const config = loadConfig(cdkJsonEnvironments(), 'development');
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'HasuraRefusals', { env: { region: config.region } });
  const platform = new Platform(stack, 'Platform', platformProps(config));
  const webhookSecret = new secretsmanager.Secret(stack, 'WebhookSecret');
  const created = chatHasuraLiteProps(stack, config, platform, { webhookUrl: 'https://abc.lambda-url.us-east-1.on.aws/', webhookSecret }, []);
  const adminSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Admin', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hasura-admin-AbCdEf');

  it.each([
    ['both', { existingEngine: { endpoint: 'https://hasura.example.com/v1/graphql', adminSecret } }, /pass engine \(create one\) or existingEngine \(use one\), not both/],
    ['neither', { engine: undefined }, /pass engine \(create one\) or existingEngine \(use one\)$/],
    [
      'an endpoint that is no URL',
      { engine: undefined, existingEngine: { endpoint: 'hasura.example.com/v1/graphql', adminSecret } },
      /existingEngine.endpoint must be an http\(s\) URL, got "hasura.example.com\/v1\/graphql"/,
    ],
    ['a non-http endpoint', { engine: undefined, existingEngine: { endpoint: 'ftp://hasura.example.com/v1/graphql', adminSecret } }, /existingEngine.endpoint must be an http\(s\) URL/],
  ])('%s', (_name, change, message) => {
    const id = `Refused${_name.replace(/\W/g, '')}`;
    expect(() => new ChatHasuraLite(stack, id, { ...created, ...change })).toThrow(message);
    expect(stack.node.tryFindChild(id)).toBeUndefined();
  });
});
