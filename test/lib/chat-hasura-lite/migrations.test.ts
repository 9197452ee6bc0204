import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SQL_DIR, sqlContentHash } from '../../../lib/chat-hasura-lite';
import { ChatFunction } from '../../../lib/constructs/chat-function';
import { loadConfig } from '../../../lib/config';
import { cdkJsonEnvironments, stackTemplate } from '../../support/synth';
import { chatFunctionCommonProps } from '../../../lib/construct-props';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

function logicalIdWhere(resources: Resources, type: string, predicate: (props: Record<string, unknown>) => boolean): string {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && predicate(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
}

describe.each(['development', 'production'] as const)('ChatHasuraLite migrations in %s', (envName) => {
  const template = stackTemplate(envName);
  const resources = resourcesOf(template);
  const functionId = logicalIdWhere(resources, 'AWS::Lambda::Function', (p) => p.Description === 'Applies the chat schema migrations (sql/) during deploy');
  const fn = resources[functionId].Properties as { VpcConfig: { SubnetIds: { Ref: string }[]; SecurityGroupIds: { 'Fn::GetAtt': [string, string] }[] } };
  const functionSg = fn.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0];
  const rdsSg = logicalIdWhere(resources, 'AWS::EC2::SecurityGroup', (p) => String(p.GroupDescription).startsWith('Chat RDS PostgreSQL'));

  it('runs the runner on Node.js 22, arm64, with the DB settings and the RDS CA bundle', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Applies the chat schema migrations (sql/) during deploy',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 540,
      Environment: {
        Variables: Match.objectLike({
          DB_SECRET_ARN: Match.anyValue(),
          DB_HOST: Match.anyValue(),
          DB_NAME: 'phenom',
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        }),
      },
    });
  });

  it('places the function in the private subnets with its own security group', () => {
    expect(fn.VpcConfig.SubnetIds.length).toBeGreaterThanOrEqual(2);
    for (const { Ref } of fn.VpcConfig.SubnetIds) {
      const tags = resources[Ref].Properties.Tags as { Key: string; Value: string }[];
      expect(tags).toContainEqual({ Key: 'aws-cdk:subnet-type', Value: 'Private' });
    }
    expect(resources[functionSg].Properties.GroupDescription).toBe('Applies the chat schema migrations (sql/) during deploy (Lambda)');
    expect(fn.VpcConfig.SecurityGroupIds).toHaveLength(1);
  });

  it('lets only that security group into RDS on 5432', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      GroupId: { 'Fn::GetAtt': [rdsSg, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [functionSg, 'GroupId'] },
    });
  });

  it('lets the function read the database secret and nothing else', () => {
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('ChatHasuraLiteMigrationsMigrationsRunner'));
    expect(policies).toHaveLength(1);
    expect((policies[0].Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      { Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^PlatformDatabaseInstanceSecretAttachment/) } },
    ]);
  });

  it('declares Custom::ChatMigrations with the sql/ content hash, after the database and its ingress rule', () => {
    const crId = logicalIdWhere(resources, 'Custom::ChatMigrations', () => true);
    const cr = resources[crId];
    expect(cr.Properties.SqlHash).toBe(sqlContentHash());
    expect(cr.Properties.SqlHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cr.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^PlatformDatabaseInstance[0-9A-F]{8}$/), expect.stringMatching(/^PlatformDatabaseSecurityGroupfrom.*MigrationsRunner/)]),
    );
  });
});

describe('sqlContentHash', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phenom-sql-hash-'));
    cpSync(SQL_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is the same for the same migrations, CRLF checkouts included', () => {
    const file = join(dir, '001-chat-schema.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
    expect(sqlContentHash(dir)).toBe(sqlContentHash(SQL_DIR));
  });

  it('changes when a migration changes or is added, so the resource runs again', () => {
    const before = sqlContentHash(dir);
    writeFileSync(join(dir, '999-next.sql'), 'SELECT 1;');
    const added = sqlContentHash(dir);
    writeFileSync(join(dir, '999-next.sql'), 'SELECT 2;');
    expect(new Set([before, added, sqlContentHash(dir)]).size).toBe(3);
  });

  it('fails synth on a migration file the runner would reject', () => {
    writeFileSync(join(dir, 'extra.sql'), 'SELECT 1;');
    expect(() => sqlContentHash(dir)).toThrow('migration file names must look like NNN-name.sql');
  });
});

describe('ChatFunction bundleDirectories', () => {
  const config = loadConfig(cdkJsonEnvironments(), 'development');

  it('ships the sql/ files next to the migrations handler in the Lambda bundle', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'phenom-bundle-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'BundleTest');
      new ChatFunction(stack, 'Runner', { ...chatFunctionCommonProps(config), entry: 'migrations/index.ts', description: 'bundle test', bundleDirectories: ['sql'] });
      app.synth();
      const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.') && existsSync(join(outdir, d, 'index.js')));
      expect(assets).toHaveLength(1);
      const shipped = readdirSync(join(outdir, assets[0], 'sql')).sort();
      expect(shipped).toEqual(readdirSync(SQL_DIR).sort());
      expect(shipped).toContain('001-chat-schema.sql');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it.each(['../etc', '/abs/sql', 'sql"; rm -rf x; "'])('rejects %s', (dir) => {
    const stack = new Stack(new App(), 'Bad');
    expect(() => new ChatFunction(stack, 'Runner', { ...chatFunctionCommonProps(config), entry: 'migrations/index.ts', description: 'bad', bundleDirectories: [dir] })).toThrow(
      `Runner: bundleDirectories must be plain paths inside the repository, got ${dir}`,
    );
  });
});
