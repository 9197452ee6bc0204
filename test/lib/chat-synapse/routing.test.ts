import { routeRequest } from '../../support/alb-rules';
import { stackTemplate } from '../../support/synth';

/**
 * Requests routed through the synthesized listener rules of the development stack, the way the ALB
 * evaluates them (test/support/alb-rules.ts): which rule answers, and with what.
 */
describe('ALB routing of the development stack', () => {
  const template = stackTemplate('development').toJSON();
  const tgIds = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === 'AWS::ElasticLoadBalancingV2::TargetGroup');
  const synapseTg = tgIds.find((id) => id.startsWith('ChatSynapseTargetGroup'));
  const host = 'chat-testing.thephenom.app';
  const route = (path: string, query = '') => routeRequest(template, { host, path, query });

  it('finds the Synapse target group', () => {
    expect(synapseTg).toBeDefined();
  });

  it("sends no path of Synapse's metrics listener (/_synapse/metrics, any case or suffix) to any target", () => {
    for (const path of ['/_synapse/metrics', '/_synapse/metrics/', '/_synapse/METRICS', '/_synapse/metrics?x=1', '//_synapse/metrics', '/_matrix/../_synapse/metrics']) {
      const r = route(path);
      expect({ path, forwards: r.actions.filter((a) => a.type === 'forward') }).toEqual({ path, forwards: path.startsWith('/_matrix/') ? [{ type: 'forward', targetGroup: synapseTg }] : [] });
    }
  });

  describe("seed 000's SSO path", () => {
    it('answers GET .../sso/redirect/cognito with a 302 to oidc-cognito that keeps redirectUrl', () => {
      const query = 'redirectUrl=phenomapp%3A%2F%2Fchat%2Fsso-callback';
      expect(route('/_matrix/client/v3/login/sso/redirect/cognito', query).actions).toEqual([
        { type: 'redirect', status: 302, location: `https://${host}:443/_matrix/client/v3/login/sso/redirect/oidc-cognito?${query}` },
      ]);
      expect(route('/_matrix/client/r0/login/sso/redirect/cognito', query).actions[0]).toMatchObject({
        location: `https://${host}:443/_matrix/client/v3/login/sso/redirect/oidc-cognito?${query}`,
      });
    });

    it('forwards the canonical oidc-cognito path (and the provider-less redirect) to Synapse', () => {
      for (const path of ['/_matrix/client/v3/login/sso/redirect/oidc-cognito', '/_matrix/client/v3/login/sso/redirect']) {
        expect(route(path, 'redirectUrl=x')).toMatchObject({ priority: 200, actions: [{ type: 'forward', targetGroup: synapseTg }] });
      }
    });

    it('leaves other idp names to Synapse (which answers "Unknown identity provider")', () => {
      expect(route('/_matrix/client/v3/login/sso/redirect/cognito2')).toMatchObject({ priority: 200 });
      expect(route('/_matrix/client/v3/login/sso/redirect/Cognito')).toMatchObject({ priority: 200 });
    });
  });

  describe('the admin API and the Admin UI', () => {
    const adminUiTg = tgIds.find((id) => id.startsWith('ChatSynapseAdminUiTargetGroup'));
    const clients = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === 'AWS::Cognito::UserPoolClient' && id.startsWith('ChatSynapseAdminSignIn'));

    it('puts /_synapse/admin/* behind Cognito sign-in with a 401 (not a redirect) for a request without a session, then Synapse', () => {
      for (const path of ['/_synapse/admin/v2/users', '/_synapse/admin/v1/server_version', '/_synapse/admin/v1/register']) {
        const r = route(path);
        expect(r.actions).toEqual([
          expect.objectContaining({ type: 'authenticate-cognito', onUnauthenticatedRequest: 'deny', userPoolClient: { Ref: clients[0] }, sessionCookieName: 'AWSELBAuthSessionCookie' }),
          { type: 'forward', targetGroup: synapseTg },
        ]);
      }
      expect(clients).toHaveLength(1);
    });

    it('sends /chat-admin and /chat-admin/* through the hosted UI (same client and cookie), then to the Admin UI', () => {
      for (const path of ['/chat-admin', '/chat-admin/', '/chat-admin/config.json']) {
        expect(route(path).actions).toEqual([
          expect.objectContaining({ type: 'authenticate-cognito', onUnauthenticatedRequest: 'authenticate', userPoolClient: { Ref: clients[0] }, sessionCookieName: 'AWSELBAuthSessionCookie' }),
          { type: 'forward', targetGroup: adminUiTg },
        ]);
      }
    });

    it('lets no other spelling of the admin path through to Synapse', () => {
      for (const path of ['/_synapse//admin/v2/users', '/_synapse/%61dmin/v2/users', '/_synapse/Admin/v2/users', '/_synapse/admin', '/_synapse/metrics']) {
        expect(`${path}: ${route(path).priority}`).toBe(`${path}: default`);
      }
    });

    it('still forwards the OIDC callback and SSO pages under /_synapse/client/', () => {
      expect(route('/_synapse/client/oidc/callback', 'code=x&state=y')).toMatchObject({ priority: 200, actions: [{ type: 'forward', targetGroup: synapseTg }] });
    });
  });
});
