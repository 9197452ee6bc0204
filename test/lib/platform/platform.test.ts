import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CLOUDFLARE_IPV4_RANGES } from '../../../chat-domain/client-ip';
import { loadConfig } from '../../../lib/config';
import { platformProps } from '../../../lib/construct-props';
import { Platform } from '../../../lib/platform';
import type { CreatedLoadBalancerProps } from '../../../lib/platform/load-balancer';
import { Database } from '../../../lib/platform/database';
import { ChatUserPool } from '../../../lib/platform/user-pool';
import { cdkJsonEnvironments, stackTemplate, validationReport } from '../../support/synth';

const dev = (): Template => stackTemplate('development');
const prod = (): Template => stackTemplate('production');

/** The logical id of the one security group whose description matches. */
function sgId(t: Template, description: RegExp): string {
  const found = Object.entries(t.findResources('AWS::EC2::SecurityGroup')).filter(([, r]) => description.test(r.Properties.GroupDescription));
  expect(found).toHaveLength(1);
  return found[0][0];
}

/** Every ingress rule of `sg`, whether inline or a separate AWS::EC2::SecurityGroupIngress. */
function ingressOf(t: Template, sg: string): Array<Record<string, unknown>> {
  const inline = (t.findResources('AWS::EC2::SecurityGroup')[sg].Properties.SecurityGroupIngress ?? []) as Array<Record<string, unknown>>;
  const separate = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress'))
    .map((r) => r.Properties as Record<string, unknown>)
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sg, 'GroupId'] }));
  return [...inline, ...separate];
}

function egressOf(t: Template, sg: string): Array<Record<string, unknown>> {
  const inline = (t.findResources('AWS::EC2::SecurityGroup')[sg].Properties.SecurityGroupEgress ?? []) as Array<Record<string, unknown>>;
  const separate = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress'))
    .map((r) => r.Properties as Record<string, unknown>)
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sg, 'GroupId'] }));
  return [...inline, ...separate];
}

const fromSg = (sg: string) => ({ 'Fn::GetAtt': [sg, 'GroupId'] });

describe('VPC', () => {
  it('spans two AZs with public, private-with-egress and isolated subnets', () => {
    const subnets = Object.values(dev().findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(6);
    const byType = (type: string) => subnets.filter((s) => (s.Properties.Tags as Array<{ Key: string; Value: string }>).some((t) => t.Key === 'aws-cdk:subnet-type' && t.Value === type));
    expect(byType('Public')).toHaveLength(2);
    expect(byType('Private')).toHaveLength(2);
    expect(byType('Isolated')).toHaveLength(2);
  });

  it('has one NAT gateway in development and one per AZ in production', () => {
    dev().resourceCountIs('AWS::EC2::NatGateway', 1);
    prod().resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('logs all traffic with flow logs', () => {
    dev().hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });
});

/** A stack of just the platform, for a development config edited by `edit`. */
function platformTemplate(edit: (env: Record<string, unknown>) => void): Template {
  const envs = cdkJsonEnvironments();
  edit(envs.development);
  const stack = new Stack(new App(), 'Platform', { env: { region: 'us-east-1' } });
  new Platform(stack, 'Platform', platformProps(loadConfig(envs, 'development')));
  return Template.fromStack(stack);
}

const albRules = (t: Template) => ingressOf(t, sgId(t, /^Chat ALB$/)).map((r) => [r.CidrIp, r.FromPort, r.ToPort, r.IpProtocol]);

describe('security groups: one per service, with seed 000 port table', () => {
  it.each(['development', 'production'] as const)("ALB SG (%s, edge.provider cloudflare): 443 and 80 from Cloudflare's IPv4 ranges only", (env) => {
    const t = stackTemplate(env);
    const rules = albRules(t);
    expect(rules).toEqual(
      CLOUDFLARE_IPV4_RANGES.flatMap((cidr) => [
        [cidr, 443, 443, 'tcp'],
        [cidr, 80, 80, 'tcp'],
      ]),
    );
    expect(rules).toHaveLength(30);
    expect(rules.some(([cidr]) => cidr === '0.0.0.0/0')).toBe(false);
  });

  it('ALB SG (edge.provider none): 443 from anywhere (and 80 for the redirect), nothing else', () => {
    expect(albRules(platformTemplate((e) => (e.edge = { provider: 'none' })))).toEqual([
      ['0.0.0.0/0', 443, 443, 'tcp'],
      ['0.0.0.0/0', 80, 80, 'tcp'],
    ]);
  });

  it('ALB SG: exactly the configured edge.allowedCidrs, in either mode', () => {
    for (const provider of ['cloudflare', 'none']) {
      expect(albRules(platformTemplate((e) => (e.edge = { provider, allowedCidrs: ['198.51.100.0/24'] })))).toEqual([
        ['198.51.100.0/24', 443, 443, 'tcp'],
        ['198.51.100.0/24', 80, 80, 'tcp'],
      ]);
    }
  });

  it('refuses an ALB SG with no CIDR, or more than its 60 rules hold', () => {
    const props = platformProps(loadConfig(cdkJsonEnvironments(), 'development'));
    for (const allowedCidrs of [[], Array.from({ length: 31 }, (_, i) => `198.51.${i}.0/24`)]) {
      const stack = new Stack(new App(), 'Platform', { env: { region: 'us-east-1' } });
      expect(() => new Platform(stack, 'Platform', { ...props, loadBalancer: { ...(props.loadBalancer as CreatedLoadBalancerProps), allowedCidrs } })).toThrow(
        `LoadBalancer: allowedCidrs must list 1 to 30 CIDRs (two inbound rules each, 60 per SG), got ${allowedCidrs.length}`,
      );
    }
  });

  it('Synapse SG: in 8008 from the ALB SG; out 5432 to the RDS SG and 443 to anywhere', () => {
    const t = dev();
    const [alb, synapse, rds] = [sgId(t, /^Chat ALB$/), sgId(t, /^Synapse homeserver tasks$/), sgId(t, /^Chat RDS/)];
    const ingress = ingressOf(t, synapse);
    expect(ingress).toEqual(expect.arrayContaining([expect.objectContaining({ SourceSecurityGroupId: fromSg(alb), FromPort: 8008, ToPort: 8008, IpProtocol: 'tcp' })]));
    // Besides the ALB, only the app's own in-VPC callers of Synapse (bootstrap, history purge,
    // the MCP server's synapse backend) get 8008, each from its own security group: never a CIDR.
    for (const rule of ingress) {
      expect(rule).toMatchObject({ FromPort: 8008, ToPort: 8008, IpProtocol: 'tcp' });
      expect(rule.CidrIp).toBeUndefined();
      expect(JSON.stringify(rule.SourceSecurityGroupId)).toMatch(/GroupId/);
    }
    const egress = egressOf(t, synapse);
    expect(egress).toHaveLength(2);
    expect(egress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ DestinationSecurityGroupId: fromSg(rds), FromPort: 5432, ToPort: 5432 }),
        expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }),
      ]),
    );
  });

  it.each([
    ['MCP server', 3001, /^Chat MCP server tasks$/],
    ['Admin UI', 80, /^Synapse Admin UI tasks/],
  ] as const)('%s SG: in only %d from the ALB SG; out all (the seed ECS tasks row)', (_name, port, description) => {
    const t = dev();
    const [alb, sg] = [sgId(t, /^Chat ALB$/), sgId(t, description)];
    expect(ingressOf(t, sg).map((r) => [r.SourceSecurityGroupId, r.FromPort, r.ToPort, r.IpProtocol])).toEqual([[fromSg(alb), port, port, 'tcp']]);
    expect(egressOf(t, sg)).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' })]);
  });

  it("lets the ALB into each service only on that service's port", () => {
    const t = dev();
    const alb = JSON.stringify(fromSg(sgId(t, /^Chat ALB$/)));
    const ports = (description: RegExp) =>
      ingressOf(t, sgId(t, description))
        .filter((r) => JSON.stringify(r.SourceSecurityGroupId) === alb)
        .map((r) => [r.FromPort, r.ToPort]);
    expect(ports(/^Synapse homeserver tasks$/)).toEqual([[8008, 8008]]);
    expect(ports(/^Hasura GraphQL Engine tasks$/)).toEqual([[8080, 8080]]);
    expect(ports(/^Chat MCP server tasks$/)).toEqual([[3001, 3001]]);
    expect(ports(/^Synapse Admin UI tasks/)).toEqual([[80, 80]]);
  });

  it.each(['development', 'production'] as const)('RDS SG (%s): 5432 only from Synapse, Hasura and the Lambdas that run SQL, each its own SG; never the Admin UI; no outbound', (env) => {
    const t = stackTemplate(env);
    const sgs = t.findResources('AWS::EC2::SecurityGroup');
    const rds = sgId(t, /^Chat RDS/);
    const ingress = ingressOf(t, rds);
    for (const rule of ingress) {
      expect(rule).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
      expect(rule.CidrIp).toBeUndefined();
    }
    const sources = ingress.map((r) => sgs[(r.SourceSecurityGroupId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]]!.Properties.GroupDescription as string);
    // Secrets Manager's hosted rotation functions (test/lib/platform/secret-rotation.test.ts): the master's and the seven role secrets'.
    const rotations = sources.filter((d) => /Rotation\/SecurityGroup$/.test(d));
    expect(rotations.map((d) => d.split('/').slice(1, -1).join('/')).sort()).toEqual(
      [
        'AbEvaluation/Collector/ChatReaderRotation',
        'AbEvaluation/Collector/SynapseReaderRotation',
        'ChatSynapse/DatabaseRotation',
        ...['Hasura', 'LinkPreview', 'Mcp', 'Provisioner'].map((c) => `Platform/ClientRoles/${c}Rotation`),
        'Platform/Database/MasterRotation',
      ].sort(),
    );
    const tasks = sources.filter((d) => !d.endsWith('(Lambda)') && !rotations.includes(d));
    // synapse.workers (on in production): each Synapse worker's own SG, one per worker service.
    const workers = env === 'production' ? ['Synapse worker federation-sender-1', 'Synapse worker generic', 'Synapse worker media-1'] : [];
    expect(tasks.sort()).toEqual(['Hasura GraphQL Engine tasks', 'Synapse homeserver tasks', ...workers].sort());
    // The MCP server's hasura backend (both environments) never connects to RDS; the Admin UI never does.
    expect(sources.filter((d) => /MCP|Admin UI/.test(d))).toEqual([]);
    expect(sources.filter((d) => d.endsWith('(Lambda)')).length).toBeGreaterThanOrEqual(5);
    // allowAllOutbound: false renders CDK's deny-all placeholder (255.255.255.255/32, ICMP 252-86).
    expect(egressOf(t, rds)).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', FromPort: 252, ToPort: 86 })]);
  });
});

describe('ALB', () => {
  it('is internet-facing, drops invalid header fields and writes access logs', () => {
    dev().hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
  });

  it('appends the address it saw to X-Forwarded-For, without a port (what the Synapse edge proxy reads)', () => {
    const attrs = Object.values(dev().findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0].Properties.LoadBalancerAttributes as Array<{ Key: string; Value: string }>;
    const byKey = Object.fromEntries(attrs.map((a) => [a.Key, a.Value]));
    expect({ mode: byKey['routing.http.xff_header_processing.mode'], port: byKey['routing.http.xff_client_port.enabled'] }).toEqual({ mode: 'append', port: 'false' });
  });

  it('keeps its access logs in an encrypted, private, TLS-only bucket', () => {
    dev().hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    dev().hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // us-east-1's Elastic Load Balancing account writes the access logs.
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { AWS: 'arn:aws:iam::127311923021:root' } }),
        ]),
      },
    });
  });

  it('serves HTTPS on 443 with a TLS 1.3/1.2 policy and answers 404 by default', () => {
    dev().hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) }],
    });
  });

  it('redirects HTTP 80 to HTTPS permanently', () => {
    dev().hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
  });

  it('gets a DNS-validated certificate for the domain when none is imported', () => {
    dev().hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'chat-testing.thephenom.app', ValidationMethod: 'DNS' });
  });

  it('is deletion-protected in production by the deletion-protection step, not the template', () => {
    const attributes = Object.values(prod().findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0].Properties.LoadBalancerAttributes as Array<{ Key: string }>;
    expect(attributes.map((a) => a.Key)).not.toContain('deletion_protection.enabled');
    prod().hasResourceProperties('Custom::ChatDeletionProtection', { LoadBalancerArn: { Ref: Match.stringLikeRegexp('^PlatformLoadBalancerAlb') } });
    dev().hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
  });
});

describe('ECS cluster', () => {
  it('has Container Insights on', () => {
    dev().hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });
});

describe('RDS', () => {
  it('runs the newest PostgreSQL 17 minor RDS still creates on db.m5.large, encrypted, private, with Performance Insights', () => {
    dev().hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '17.9',
      DBInstanceClass: 'db.m5.large',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      EnablePerformanceInsights: true,
      MasterUserPassword: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('resolve:secretsmanager')])] }),
    });
  });

  it('takes new minors automatically but never a major upgrade', () => {
    for (const t of [dev(), prod()]) t.hasResourceProperties('AWS::RDS::DBInstance', { AutoMinorVersionUpgrade: true, AllowMajorVersionUpgrade: false });
  });

  it('passes the CloudFormation validator with nothing acknowledged for the engine or instance class', () => {
    for (const env of ['development', 'production'] as const) {
      const acknowledged = validationReport(env)
        .pluginReports.flatMap((p) => p.suppressedViolations ?? [])
        .map((v) => v.acknowledgedId ?? v.ruleName);
      expect(acknowledged).not.toContain('CloudFormation-Validate::E3062');
    }
  });

  it('creates the configured minor', () => {
    const envs = cdkJsonEnvironments();
    envs.development.database = { mode: 'create', engineVersion: '17.6' };
    // The Database construct alone: the whole app's synth would add seconds for one property.
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Db');
    const database = platformProps(loadConfig(envs, 'development')).database;
    if ('existing' in database) throw new Error('expected a created database');
    new Database(stack, 'Database', {
      ...database,
      vpc: new ec2.Vpc(stack, 'Vpc', {
        subnetConfiguration: [
          { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          // The master secret's rotation function runs here (it calls Secrets Manager).
          { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        ],
      }),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBInstance', { EngineVersion: '17.6' });
  });

  it('requires TLS through rds.force_ssl', () => {
    dev().hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'postgres17', Parameters: { 'rds.force_ssl': '1' } });
  });

  it('keeps 7 days of backups in development, without deletion protection', () => {
    dev().hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 7, DeletionProtection: false, MultiAZ: false });
    dev().hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete' });
  });

  it('keeps 30 days in production, Multi-AZ, deletion-protected (by the deletion-protection step), snapshotted on delete', () => {
    prod().hasResourceProperties('AWS::RDS::DBInstance', { BackupRetentionPeriod: 30, DeletionProtection: Match.absent(), MultiAZ: true });
    prod().hasResourceProperties('Custom::ChatDeletionProtection', { DBInstanceIdentifier: { Ref: Match.stringLikeRegexp('^PlatformDatabaseInstance') } });
    prod().hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  });

  it('generates its credentials into Secrets Manager', () => {
    dev().hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'phenom-development-rds-credentials',
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"chat_admin"}' }),
    });
  });
});

describe('Cognito user pool', () => {
  it('signs in with email, enforces a password policy and offers optional TOTP MFA', () => {
    dev().hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }) },
    });
  });

  it('has a hosted-UI domain for Synapse OIDC', () => {
    dev().hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'phenom-development-chat' });
  });

  it('sends production e-mail through SES from the configured address and identity', () => {
    prod().hasResourceProperties('AWS::Cognito::UserPool', {
      EmailConfiguration: {
        EmailSendingAccount: 'DEVELOPER',
        From: 'Phenom Chat <no-reply@thephenom.app>',
        SourceArn: {
          'Fn::Join': ['', ['arn:aws:ses:us-east-1:', { Ref: 'AWS::AccountId' }, ':identity/thephenom.app']],
        },
      },
    });
  });

  it("keeps Cognito's built-in sender in development", () => {
    dev().hasResourceProperties('AWS::Cognito::UserPool', { EmailConfiguration: { EmailSendingAccount: 'COGNITO_DEFAULT' } });
  });

  it('sends from a configured SES identity ARN as given, even in another account', () => {
    const envs = cdkJsonEnvironments();
    const arn = 'arn:aws:ses:us-west-2:444455556666:identity/thephenom.app';
    envs.production.userPool = { mode: 'create', email: { fromAddress: 'no-reply@thephenom.app', replyTo: 'support@thephenom.app', sesIdentityArn: arn } };
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Pool', { env: { region: 'us-east-1' } });
    new ChatUserPool(stack, 'UserPool', platformProps(loadConfig(envs, 'production')).userPool);
    Template.fromStack(stack).hasResourceProperties('AWS::Cognito::UserPool', {
      EmailConfiguration: { EmailSendingAccount: 'DEVELOPER', From: 'no-reply@thephenom.app', ReplyToEmailAddress: 'support@thephenom.app', SourceArn: arn },
    });
  });

  it('is deletion-protected in production only', () => {
    prod().hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
    dev().hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });
  });
});
