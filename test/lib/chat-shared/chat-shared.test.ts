import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatShared } from '../../../lib/chat-shared';
import { CHAT_CLIENT_SECRET_KEYS } from '../../../lib/chat-shared/secret-keys';
import { ENVIRONMENTS_CONTEXT_KEY, loadConfig } from '../../../lib/config';
import { chatSharedProps, platformProps } from '../../../lib/construct-props';
import { Platform } from '../../../lib/platform';
import { cdkJsonEnvironments, stackTemplate } from '../../support/synth';
import { templateStrings } from '../../support/template-walk';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;

const cdkJson = JSON.parse(readFileSync(join(__dirname, '../../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };

/**
 * The platform plus ChatShared alone, synthesized with the app's context and cdk-nag, so these
 * assertions do not wait on the other constructs.
 */
function synthChatShared(edit: (env: Record<string, unknown>) => void = () => undefined): { template: Template; shared: ChatShared } {
  const envs = cdkJsonEnvironments();
  edit(envs.development);
  const config = loadConfig(envs, 'development');
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'chat-shared-')), context: { ...cdkJson.context, [ENVIRONMENTS_CONTEXT_KEY]: envs } });
  const stack = new Stack(app, 'ChatSharedTest', { env: { region: config.region } });
  const platform = new Platform(stack, 'Platform', platformProps(config));
  const shared = new ChatShared(stack, 'ChatShared', chatSharedProps(config, platform));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  // The template from this synth: Template.fromStack would synthesize the app again. CDK's
  // CloudFormation validator is left to the global setup's synths, which hold these same
  // resources (development's created pool, IMPORT_EVERYTHING's imported one) and fail on its
  // errors: here it would cost ~8 s of CPU to start in this file's own aws-cdk-lib.
  const assembly = app.synth();
  return { template: Template.fromJSON(assembly.getStackByName(stack.stackName).template), shared };
}

function only(resources: Resources, type: string, predicate: (p: Record<string, unknown>) => boolean): [string, Record<string, unknown>] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && predicate(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return [found[0][0], found[0][1].Properties];
}

const client = (resources: Resources, name: string) => only(resources, 'AWS::Cognito::UserPoolClient', (p) => p.ClientName === `phenom-development-${name}`);

describe('ChatShared on a user pool created by the app', () => {
  const { template, shared } = synthChatShared();
  const resources = template.toJSON().Resources as Resources;
  const [poolId, pool] = only(resources, 'AWS::Cognito::UserPool', () => true);

  it('gives Synapse a confidential code-flow client for openid/email/profile that returns to its OIDC callback', () => {
    const [, props] = client(resources, 'synapse-oidc');
    expect(props).toMatchObject({
      UserPoolId: { Ref: poolId },
      GenerateSecret: true,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      CallbackURLs: ['https://chat-testing.thephenom.app/_synapse/client/oidc/callback'],
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect([...(props.AllowedOAuthScopes as string[])].sort()).toEqual(['email', 'openid', 'profile']);
  });

  it('gives the MCP machine account a secret client with USER_PASSWORD_AUTH and refresh only', () => {
    const [, props] = client(resources, 'chat-agent');
    expect(props).toMatchObject({ GenerateSecret: true, AllowedOAuthFlowsUserPoolClient: false });
    expect([...(props.ExplicitAuthFlows as string[])].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH']);
    expect(props.AllowedOAuthFlows).toBeUndefined();
  });

  it('gives the mobile app a public client (no secret) with SRP, password and refresh, and deliberate token lifetimes', () => {
    const [, props] = client(resources, 'chat-mobile');
    expect(props.GenerateSecret).not.toBe(true);
    expect([...(props.ExplicitAuthFlows as string[])].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(props).toMatchObject({
      AllowedOAuthFlowsUserPoolClient: false,
      IdTokenValidity: 60,
      AccessTokenValidity: 60,
      RefreshTokenValidity: 43200,
      TokenValidityUnits: { IdToken: 'minutes', AccessToken: 'minutes', RefreshToken: 'minutes' },
      AuthSessionValidity: 3,
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('defines the chat resource server with read and moderate scopes, and a client_credentials client holding both', () => {
    const [serverId, server] = only(resources, 'AWS::Cognito::UserPoolResourceServer', () => true);
    expect(server).toMatchObject({ Identifier: 'chat', UserPoolId: { Ref: poolId } });
    expect((server.Scopes as { ScopeName: string }[]).map((s) => s.ScopeName).sort()).toEqual(['moderate', 'read']);
    expect(shared.resourceServerIdentifier).toBe('chat');

    const [, props] = client(resources, 'chat-mcp-agent');
    expect(props).toMatchObject({ GenerateSecret: true, AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['client_credentials'] });
    expect(props.ExplicitAuthFlows).toEqual(['ALLOW_REFRESH_TOKEN_AUTH']);
    expect(props.CallbackURLs).toBeUndefined();
    const scopes = (props.AllowedOAuthScopes as unknown[]).map((s) => JSON.stringify(s));
    expect(scopes.sort()).toEqual(['moderate', 'read'].map((name) => JSON.stringify({ 'Fn::Join': ['', [{ Ref: serverId }, `/${name}`]] })).sort());
  });

  it('gives people a public authorization-code + PKCE client for MCP clients: loopback callbacks, chat/read only, no secret', () => {
    const [serverId] = only(resources, 'AWS::Cognito::UserPoolResourceServer', () => true);
    const [, props] = client(resources, 'chat-mcp-interactive');
    expect(props).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      SupportedIdentityProviders: ['COGNITO'],
      EnableTokenRevocation: true,
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
    expect(props.CallbackURLs).toEqual(['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug', 'http://localhost:8787/callback']);
    // Scopes are per client, not per user: moderation must come from the person's group, never a scope.
    expect(props.AllowedOAuthScopes).toEqual([{ 'Fn::Join': ['', [{ Ref: serverId }, '/read']] }]);
    expect(shared.mcpInteractiveClient).toBeDefined();
  });

  it('creates the four chat groups, admin first', () => {
    const groups = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Cognito::UserPoolGroup')
      .map((r) => [r.Properties.GroupName, r.Properties.Precedence]);
    expect(groups.sort()).toEqual([
      ['chat-admin', 0],
      ['chat-support', 1],
      ['phenom-internal', 10],
      ['phenom-partners', 11],
    ]);
  });

  it('attaches pre-token generation as a V1_0 trigger and the provisioner as post-authentication', () => {
    const [preTokenId] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito pre-token-generation'));
    const [provisionerId] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito post-authentication'));
    expect(pool.LambdaConfig).toEqual({
      PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [preTokenId, 'Arn'] }, LambdaVersion: 'V1_0' },
      PostAuthentication: { 'Fn::GetAtt': [provisionerId, 'Arn'] },
    });
    for (const fnId of [preTokenId, provisionerId]) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Principal: 'cognito-idp.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [poolId, 'Arn'] },
      });
    }
  });

  it('runs both triggers on Node.js 22 arm64 inside Cognito’s 5 s, the provisioner in the VPC with database access', () => {
    const [, preToken] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito pre-token-generation'));
    const [, provisioner] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito post-authentication'));
    for (const fn of [preToken, provisioner]) expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 5 });
    expect(preToken.VpcConfig).toBeUndefined();
    expect(provisioner.VpcConfig).toBeDefined();
    expect(Object.keys((provisioner.Environment as { Variables: Record<string, unknown> }).Variables)).toEqual(expect.arrayContaining(['DB_SECRET_ARN', 'DB_HOST', 'DB_NAME', 'NODE_EXTRA_CA_CERTS']));
  });

  it('lets the provisioner list groups on this pool only, through a policy the function does not wait for', () => {
    const [provisionerId, provisioner] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito post-authentication'));
    const roleId = (provisioner.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const [policyId] = only(resources, 'AWS::IAM::Policy', (p) => JSON.stringify(p.PolicyDocument).includes('cognito-idp:AdminListGroupsForUser') && JSON.stringify(p.Roles).includes(roleId));
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'cognito-idp:AdminListGroupsForUser', Effect: 'Allow', Resource: { 'Fn::GetAtt': [poolId, 'Arn'] } }] },
    });
    // The pool depends on the function (its trigger): a function → policy → pool dependency would be a cycle.
    expect([template.toJSON().Resources[provisionerId].DependsOn ?? []].flat()).not.toContain(policyId);
  });

  it('generates the machine password in Secrets Manager and creates the account in chat-admin at deploy, without the password', () => {
    const [passwordId, password] = only(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'phenom-development-chat-agent-password');
    expect(password.GenerateSecretString).toMatchObject({
      GenerateStringKey: 'password',
      PasswordLength: 40,
      RequireEachIncludedType: true,
      SecretStringTemplate: JSON.stringify({ username: 'chat-mcp-agent@chat-testing.thephenom.app' }),
    });
    expect(password.SecretString).toBeUndefined();
    const [groupId] = only(resources, 'AWS::Cognito::UserPoolGroup', (p) => p.GroupName === 'chat-admin');
    const [, account] = only(resources, 'Custom::ChatMachineAccount', () => true);
    expect(account).toEqual({
      ServiceToken: expect.anything(),
      // CloudFormation's wait for an answer (test/lib/deploy-step-limits.test.ts checks its relation to the handler).
      ServiceTimeout: expect.stringMatching(/^\d+$/),
      UserPoolId: { Ref: poolId },
      Username: 'chat-mcp-agent@chat-testing.thephenom.app',
      // A Ref to the group: the account is created only once the group exists.
      GroupName: { Ref: groupId },
      PasswordSecretArn: { Ref: passwordId },
    });
  });

  it('stores every id and secret in <prefix>-chat-clients by reference only (C4 keys)', () => {
    const [, secret] = only(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'phenom-development-chat-clients');
    const joined = secret.SecretString as { 'Fn::Join': [string, unknown[]] };
    expect(joined['Fn::Join'][0]).toBe('');
    const parts = joined['Fn::Join'][1];
    const literal = parts.filter((p): p is string => typeof p === 'string').join('');
    // Every C4 key is there, and the literal text is nothing but keys, punctuation and the (public) username.
    for (const key of Object.values(CHAT_CLIENT_SECRET_KEYS)) expect(literal).toContain(`"${key}":"`);
    const leftover = Object.values(CHAT_CLIENT_SECRET_KEYS)
      .reduce((text, key) => text.split(`"${key}":"`).join(''), literal)
      .replace('chat-mcp-agent@chat-testing.thephenom.app', '')
      .replace(/\{\{resolve:secretsmanager:|:SecretString:password::\}\}/g, '');
    expect(leftover).toMatch(/^[{}",]*$/);

    const references = parts.filter((p) => typeof p !== 'string').map((p) => JSON.stringify(p));
    const describeClient = Object.entries(resources).filter(([, r]) => r.Type === 'Custom::DescribeCognitoUserPoolClient');
    expect(describeClient).toHaveLength(3);
    for (const [id] of describeClient) expect(references).toContain(JSON.stringify({ 'Fn::GetAtt': [id, 'UserPoolClient.ClientSecret'] }));
    const [passwordId] = only(resources, 'AWS::SecretsManager::Secret', (p) => p.Name === 'phenom-development-chat-agent-password');
    expect(references).toContain(JSON.stringify({ Ref: passwordId }));
    expect(literal).toContain('{{resolve:secretsmanager:');
  });

  it('has no literal secret anywhere: no plain SecretString, no password or client secret property', () => {
    for (const s of templateStrings(template.toJSON().Resources)) {
      expect({ path: s.path, key: s.key }).not.toMatchObject({ key: expect.stringMatching(/^(SecretString|Password|ClientSecret)$/) });
    }
  });

  it('exposes the C4 interface', () => {
    expect(shared.clientsSecret.secretArn).toBeDefined();
    for (const c of [shared.synapseOidcClient, shared.agentClient, shared.mobileClient, shared.mcpAgentClient]) expect(c.userPoolClientId).toBeDefined();
  });
});

describe('ChatShared on an imported user pool', () => {
  const importedPoolId = 'us-east-1_AbCdEfGhI';
  const { template } = synthChatShared((env) => {
    env.userPool = { mode: 'import', userPoolId: importedPoolId, domain: 'phenom.auth.us-east-1.amazoncognito.com' };
  });
  const resources = template.toJSON().Resources as Resources;
  const poolArn = Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`:userpool/${importedPoolId}`])] });

  it('creates no pool, and puts the clients and groups on the imported one', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 5);
    template.allResourcesProperties('AWS::Cognito::UserPoolClient', { UserPoolId: importedPoolId });
    template.allResourcesProperties('AWS::Cognito::UserPoolGroup', { UserPoolId: importedPoolId });
  });

  it('attaches both triggers at deploy through a custom resource, allowed to update this pool only', () => {
    const [preTokenId] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito pre-token-generation'));
    const [provisionerId] = only(resources, 'AWS::Lambda::Function', (p) => String(p.Description).startsWith('Cognito post-authentication'));
    template.hasResourceProperties('Custom::ChatUserPoolTriggers', {
      UserPoolId: importedPoolId,
      PreTokenGenerationArn: { 'Fn::GetAtt': [preTokenId, 'Arn'] },
      PostAuthenticationArn: { 'Fn::GetAtt': [provisionerId, 'Arn'] },
    });
    for (const fnId of [preTokenId, provisionerId]) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Principal: 'cognito-idp.amazonaws.com',
        SourceArn: poolArn,
      });
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: ['cognito-idp:DescribeUserPool', 'cognito-idp:UpdateUserPool'], Resource: poolArn })]),
      },
    });
  });
});

describe('ChatShared as wired in the production stack', () => {
  const template = stackTemplate('production');

  it('creates phenom-production-chat-clients and points Synapse’s callback at the public domain, not the Matrix server name', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'phenom-production-chat-clients' });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'phenom-production-synapse-oidc',
      CallbackURLs: ['https://chat.thephenom.app/_synapse/client/oidc/callback'],
    });
    template.hasResourceProperties('Custom::ChatMachineAccount', { Username: 'chat-mcp-agent@chat.thephenom.app' });
  });
});
