import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { ADMIN_UI_BASE_PATH } from './admin-ui-service';
import { AdminSignIn } from './admin-sign-in';
import { SYNAPSE_OIDC_IDP_ID, SYNAPSE_OIDC_IDP_ID_PREFIX } from './homeserver-config';

/** Listener rule priorities (contract C5: the Synapse block ends at 2xx; lower numbers are evaluated first). */
export const SYNAPSE_RULE_PRIORITIES = {
  /** Seed 000's SSO path `.../sso/redirect/cognito`, redirected to Synapse's `oidc-cognito` (before 200 forwards /_matrix/*). */
  ssoIdpAlias: 189,
  /** Refuses password changes so SSO users never get a password (see homeserver-config.ts password_config). */
  passwordChangeBlock: 190,
  /**
   * First of the /_synapse/admin/* rules (Cognito sign-in, then Synapse): one rule from anywhere, or one per
   * ALLOWED_CIDRS_PER_RULE CIDRs of the optional allow-list, up to 198.
   */
  adminApiAllowFirst: 191,
  /** Only with an allow-list: /_synapse/admin/* from anywhere else. */
  adminApiDeny: 199,
  synapse: 200,
  adminUi: 201,
  wellKnown: 202,
} as const;

/** An ALB rule may hold 5 condition values; the host header and the path take two. */
export const ALLOWED_CIDRS_PER_RULE = 3;
const MAX_ALLOW_RULES = SYNAPSE_RULE_PRIORITIES.adminApiDeny - SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst;

/** The seeds' SSO redirect paths (seed 000 calls v3; r0 is the same Synapse servlet) and where they go. */
export const SSO_IDP_ALIAS = {
  from: ['v3', 'r0'].map((v) => `/_matrix/client/${v}/login/sso/redirect/${SYNAPSE_OIDC_IDP_ID}`),
  to: `/_matrix/client/v3/login/sso/redirect/${SYNAPSE_OIDC_IDP_ID_PREFIX}${SYNAPSE_OIDC_IDP_ID}`,
} as const;

export interface SynapseRoutesProps {
  readonly listener: elbv2.IApplicationListener;
  /** Every rule also matches this host header. */
  readonly domainName: string;
  readonly synapse: elbv2.IApplicationTargetGroup;
  readonly adminUi: elbv2.IApplicationTargetGroup;
  /** Cognito sign-in at the ALB, in front of the Admin UI and the admin API. */
  readonly adminSignIn: AdminSignIn;
  /**
   * An extra restriction on /_synapse/admin/*: only these source CIDRs (as the ALB sees them, so useless
   * behind Cloudflare). Empty: from anywhere, behind the sign-in and Synapse's own admin check.
   */
  readonly adminApiAllowedCidrs: readonly string[];
}

const matrixError = (status: 403, errcode: string, error: string) => elbv2.ListenerAction.fixedResponse(status, { contentType: 'application/json', messageBody: JSON.stringify({ errcode, error }) });

/**
 * The ALB rules in front of Synapse and its Admin UI.
 *
 * The admin API is powerful. From the internet it is reached only by a browser signed in to Cognito
 * at the ALB (the Admin UI's session cookie), and Synapse then answers only server admins' tokens;
 * server admin is the `chat-admin` group's. The bootstrap and purge Lambdas call Synapse inside the
 * VPC instead. Of the rest of `/_synapse/`, only `/_synapse/client/*` (the OIDC callback and SSO pages)
 * is forwarded: other spellings of the admin path (case, %-encoding, `//`) meet the listener's 404, not
 * Synapse. Dot segments under `/_matrix/` do reach Synapse, which does not resolve them (README).
 */
export class SynapseRoutes extends Construct {
  /** The rule that forwards /_matrix/* and /_synapse/client/* (ECS needs it before it attaches the target group). */
  public readonly synapseRule: elbv2.ApplicationListenerRule;
  public readonly adminUiRule: elbv2.ApplicationListenerRule;

  constructor(scope: Construct, id: string, props: SynapseRoutesProps) {
    super(scope, id);
    const host = elbv2.ListenerCondition.hostHeaders([props.domainName]);
    const rule = (rid: string, priority: number, paths: string[], action: elbv2.ListenerAction, extra: elbv2.ListenerCondition[] = []) =>
      new elbv2.ApplicationListenerRule(this, rid, {
        listener: props.listener,
        priority,
        conditions: [host, elbv2.ListenerCondition.pathPatterns(paths), ...extra],
        action,
      });

    // The seeds' mobile flow asks for idp "cognito"; Synapse names it "oidc-cognito". A 302 keeps the
    // query (redirectUrl) and the canonical path keeps working, since rule 200 forwards it unchanged.
    rule('SsoIdpAlias', SYNAPSE_RULE_PRIORITIES.ssoIdpAlias, [...SSO_IDP_ALIAS.from], elbv2.ListenerAction.redirect({ path: SSO_IDP_ALIAS.to, query: '#{query}', permanent: false }));

    rule(
      'PasswordChangeBlock',
      SYNAPSE_RULE_PRIORITIES.passwordChangeBlock,
      ['/_matrix/client/*/account/password*'],
      matrixError(403, 'M_FORBIDDEN', 'Passwords are not used on this server: sign in with Phenom single sign-on'),
    );

    const cidrs = [...props.adminApiAllowedCidrs];
    const chunks: string[][] = [];
    for (let i = 0; i < cidrs.length; i += ALLOWED_CIDRS_PER_RULE) chunks.push(cidrs.slice(i, i + ALLOWED_CIDRS_PER_RULE));
    if (chunks.length > MAX_ALLOW_RULES) {
      throw new Error(`synapse.adminApiAllowedCidrs: at most ${MAX_ALLOW_RULES * ALLOWED_CIDRS_PER_RULE} CIDRs fit the rule priorities reserved for them, got ${cidrs.length}; use wider blocks`);
    }
    // deny, not authenticate: the Admin UI calls the API with fetch, which cannot follow a redirect to
    // Cognito's hosted UI; a 401 lets the page tell the admin to reload and sign in again.
    const adminApi = () => props.adminSignIn.then(elbv2.ListenerAction.forward([props.synapse]), elbv2.UnauthenticatedAction.DENY);
    // No allow-list: one rule with no source condition (same id and priority as the first chunk rule).
    (chunks.length > 0 ? chunks : [undefined]).forEach((chunk, i) =>
      rule(`AdminApiAllow${i + 1}`, SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst + i, ['/_synapse/admin/*'], adminApi(), chunk ? [elbv2.ListenerCondition.sourceIps(chunk)] : []),
    );
    if (chunks.length > 0) {
      rule(
        'AdminApiDeny',
        SYNAPSE_RULE_PRIORITIES.adminApiDeny,
        ['/_synapse/admin/*'],
        matrixError(403, 'M_FORBIDDEN', 'The Synapse admin API is not reachable from this address (synapse.adminApiAllowedCidrs)'),
      );
    }

    this.synapseRule = rule('Synapse', SYNAPSE_RULE_PRIORITIES.synapse, ['/_matrix/*', '/_synapse/client/*'], elbv2.ListenerAction.forward([props.synapse]));
    this.adminUiRule = rule(
      'AdminUi',
      SYNAPSE_RULE_PRIORITIES.adminUi,
      [ADMIN_UI_BASE_PATH, `${ADMIN_UI_BASE_PATH}/*`],
      props.adminSignIn.then(elbv2.ListenerAction.forward([props.adminUi]), elbv2.UnauthenticatedAction.AUTHENTICATE),
    );
    // Synapse answers both (serve_server_wellknown, and /client from public_baseurl) with CORS headers.
    rule('WellKnown', SYNAPSE_RULE_PRIORITIES.wellKnown, ['/.well-known/matrix/server', '/.well-known/matrix/client'], elbv2.ListenerAction.forward([props.synapse]));
  }
}
