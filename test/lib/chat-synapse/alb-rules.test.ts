import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AdminSignIn } from '../../../lib/chat-synapse/admin-sign-in';
import { SSO_IDP_ALIAS, SYNAPSE_RULE_PRIORITIES, SynapseRoutes } from '../../../lib/chat-synapse/alb-rules';

/** SynapseRoutes alone on a bare HTTPS listener (authenticate actions need one): the variants need no full-stack synth. */
function routes(adminApiAllowedCidrs: string[]): Template {
  // The rules alone: skip the built-in CloudFormation validator (the full-stack tests run it) to keep this file fast.
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Routes');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, maxAzs: 2 });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
  const listener = alb.addListener('Https', {
    port: 443,
    certificates: [elbv2.ListenerCertificate.fromArn('arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000')],
    defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  const tg = (id: string, port: number) => new elbv2.ApplicationTargetGroup(stack, id, { vpc, port, targetType: elbv2.TargetType.IP });
  const userPool = new cognito.UserPool(stack, 'Pool');
  const userPoolDomain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'phenom-test-chat' } });
  new SynapseRoutes(stack, 'SynapseRoutes', {
    listener,
    domainName: 'chat.example.com',
    synapse: tg('Synapse', 8008),
    adminUi: tg('AdminUi', 80),
    adminSignIn: new AdminSignIn(stack, 'AdminSignIn', { userPool, userPoolDomain, domainName: 'chat.example.com', prefix: 'phenom-test' }),
    adminApiAllowedCidrs,
  });
  return Template.fromStack(stack);
}

const adminPath = { Field: 'path-pattern', PathPatternConfig: { Values: ['/_synapse/admin/*'] } };
const host = { Field: 'host-header', HostHeaderConfig: { Values: ['chat.example.com'] } };

/** Cognito sign-in at the ALB with the dedicated client, then forward. */
const signIn = (onUnauthenticatedRequest: 'deny' | 'authenticate') => ({
  Type: 'authenticate-cognito',
  Order: 1,
  AuthenticateCognitoConfig: Match.objectLike({
    OnUnauthenticatedRequest: onUnauthenticatedRequest,
    UserPoolClientId: { Ref: Match.stringLikeRegexp('^AdminSignInAlbClient') },
    UserPoolDomain: { Ref: Match.stringLikeRegexp('^PoolDomain') },
    SessionCookieName: 'AWSELBAuthSessionCookie',
    SessionTimeout: 28800,
    Scope: 'openid email',
  }),
});
const forwardTo = (tgPrefix: string) => Match.objectLike({ Type: 'forward', Order: 2, TargetGroupArn: { Ref: Match.stringLikeRegexp(`^${tgPrefix}`) } });

describe('SynapseRoutes admin API and Admin UI', () => {
  it('without an allow-list: one rule, Cognito sign-in (401 without a session), then Synapse; no 403 rule', () => {
    const t = routes([]);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst,
      Conditions: Match.arrayEquals([host, adminPath]),
      Actions: [signIn('deny'), forwardTo('Synapse')],
    });
    const rules = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    expect(rules.filter((r) => JSON.stringify(r.Properties.Conditions).includes('/_synapse/admin/*'))).toHaveLength(1);
    const priorities = rules.map((r) => r.Properties.Priority as number);
    expect(priorities.sort((a, b) => a - b)).toEqual([189, 190, 191, 200, 201, 202]);
  });

  it('with an allow-list: the sign-in rules only from the CIDRs (3 per rule), then a 403 for every other address', () => {
    const t = routes(['203.0.113.0/24', '198.51.100.7/32', '192.0.2.0/28', '10.0.0.0/8']);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst,
      Conditions: Match.arrayEquals([host, adminPath, { Field: 'source-ip', SourceIpConfig: { Values: ['203.0.113.0/24', '198.51.100.7/32', '192.0.2.0/28'] } }]),
      Actions: [signIn('deny'), forwardTo('Synapse')],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst + 1,
      Conditions: Match.arrayEquals([host, adminPath, { Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } }]),
      Actions: [signIn('deny'), forwardTo('Synapse')],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 199,
      Conditions: Match.arrayEquals([host, adminPath]),
      Actions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403', ContentType: 'application/json' }) })],
    });
    const priorities = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r) => r.Properties.Priority as number);
    expect(priorities.sort((a, b) => a - b)).toEqual([189, 190, 191, 192, 199, 200, 201, 202]);
  });

  it('sends a browser without a session at /chat-admin* to the hosted UI, then forwards to the Admin UI', () => {
    routes([]).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.adminUi,
      Conditions: Match.arrayEquals([host, { Field: 'path-pattern', PathPatternConfig: { Values: ['/chat-admin', '/chat-admin/*'] } }]),
      Actions: [signIn('authenticate'), forwardTo('AdminUi')],
    });
  });

  it('forwards only /_matrix/* and /_synapse/client/* to Synapse at 200 (no other /_synapse/ path)', () => {
    routes([]).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.synapse,
      Conditions: Match.arrayEquals([host, { Field: 'path-pattern', PathPatternConfig: { Values: ['/_matrix/*', '/_synapse/client/*'] } }]),
      Actions: [Match.objectLike({ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^Synapse') } })],
    });
  });

  it("gives the ALB its own confidential Cognito client with the ALB's callback and the code grant", () => {
    routes([]).hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'phenom-test-synapse-admin-alb',
      GenerateSecret: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: ['https://chat.example.com/oauth2/idpresponse'],
      SupportedIdentityProviders: ['COGNITO'],
      RefreshTokenValidity: 480,
      TokenValidityUnits: Match.objectLike({ RefreshToken: 'minutes' }),
    });
  });

  it('throws with a clear message when the allow-list does not fit the reserved priorities', () => {
    const many = Array.from({ length: 25 }, (_, i) => `10.${i}.0.0/16`);
    expect(() => routes(many)).toThrow(/synapse.adminApiAllowedCidrs: at most 24 CIDRs fit/);
  });
});

describe('SynapseRoutes SSO alias for seed 000', () => {
  it("redirects .../login/sso/redirect/cognito (v3 and r0) with a 302 to Synapse's oidc-cognito path, keeping the query", () => {
    const t = routes([]);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.ssoIdpAlias,
      Conditions: Match.arrayEquals([
        host,
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/_matrix/client/v3/login/sso/redirect/cognito', '/_matrix/client/r0/login/sso/redirect/cognito'] } },
      ]),
      // Host, port and protocol stay #{host}/#{port}/#{protocol} (the ALB's defaults): the browser's own.
      Actions: [{ Type: 'redirect', RedirectConfig: { Path: '/_matrix/client/v3/login/sso/redirect/oidc-cognito', Query: '#{query}', StatusCode: 'HTTP_302' } }],
    });
  });

  it('is evaluated before rule 200 forwards /_matrix/*, which still carries the canonical oidc-cognito path', () => {
    expect(SYNAPSE_RULE_PRIORITIES.ssoIdpAlias).toBeLessThan(SYNAPSE_RULE_PRIORITIES.synapse);
    // the target is not itself an alias path, so the redirect cannot loop
    expect(SSO_IDP_ALIAS.from).not.toContain(SSO_IDP_ALIAS.to);
    expect(SSO_IDP_ALIAS.to.startsWith('/_matrix/')).toBe(true);
  });
});
