import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { SSO_IDP_ALIAS, SYNAPSE_RULE_PRIORITIES, SynapseRoutes } from '../../../lib/chat-synapse/alb-rules';

/** SynapseRoutes alone on a bare listener: the allow-list variants need no full-stack synth. */
function routes(adminApiAllowedCidrs: string[]): Template {
  // The rules alone: skip the built-in CloudFormation validator (the full-stack tests run it) to keep this file fast.
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Routes');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, maxAzs: 2 });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
  const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const tg = (id: string, port: number) => new elbv2.ApplicationTargetGroup(stack, id, { vpc, port, targetType: elbv2.TargetType.IP });
  new SynapseRoutes(stack, 'SynapseRoutes', {
    listener,
    domainName: 'chat.example.com',
    synapse: tg('Synapse', 8008),
    adminUi: tg('AdminUi', 80),
    adminApiAllowedCidrs,
  });
  return Template.fromStack(stack);
}

const adminPath = { Field: 'path-pattern', PathPatternConfig: { Values: ['/_synapse/admin/*'] } };
const host = { Field: 'host-header', HostHeaderConfig: { Values: ['chat.example.com'] } };

describe('SynapseRoutes admin-API restriction', () => {
  it('forwards /_synapse/admin/* only from the allowed CIDRs, ahead of the 403 rule, 3 CIDRs per rule', () => {
    const t = routes(['203.0.113.0/24', '198.51.100.7/32', '192.0.2.0/28', '10.0.0.0/8']);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst,
      Conditions: Match.arrayEquals([host, adminPath, { Field: 'source-ip', SourceIpConfig: { Values: ['203.0.113.0/24', '198.51.100.7/32', '192.0.2.0/28'] } }]),
      Actions: [Match.objectLike({ Type: 'forward' })],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst + 1,
      Conditions: Match.arrayEquals([host, adminPath, { Field: 'source-ip', SourceIpConfig: { Values: ['10.0.0.0/8'] } }]),
      Actions: [Match.objectLike({ Type: 'forward' })],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 199,
      Conditions: Match.arrayEquals([host, adminPath]),
      Actions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403', ContentType: 'application/json' }) })],
    });
    // every allow rule is evaluated before the deny rule, and the deny rule before the catch-all 200
    const priorities = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r) => r.Properties.Priority as number);
    expect(priorities.sort((a, b) => a - b)).toEqual([189, 190, 191, 192, 199, 200, 201, 202]);
  });

  it('with no CIDRs has no forward for the admin API at all', () => {
    const t = routes([]);
    const rules = Object.values(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    const admin = rules.filter((r) => JSON.stringify(r.Properties.Conditions).includes('/_synapse/admin/*'));
    expect(admin).toHaveLength(1);
    expect(admin[0].Properties.Actions[0].Type).toBe('fixed-response');
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
