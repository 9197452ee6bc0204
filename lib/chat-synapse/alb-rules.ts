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
  /** The catch-all to the main process: /_matrix/* and /_synapse/client/* (one process, or after the worker rules). */
  synapse: 200,
  adminUi: 201,
  wellKnown: 202,
  /** With a media worker: its admin-API rules (Cognito sign-in, then the worker), before the admin rules to the main process. */
  workerAdminFirst: 180,
  workerAdminLast: 188,
  /** With workers (synapse.workers): their rules, in order, before the catch-all (after the SSO, password and admin rules above). */
  workersFirst: 210,
  workersLast: 298,
  /** With workers, the catch-all moves here so that every worker rule comes first. */
  synapseAfterWorkers: 299,
} as const;

/** Condition values per ALB rule (ELBv2 quotas): the host header, the paths and any methods share them. */
export const CONDITION_VALUES_PER_RULE = 5;
/** ALB's limit on one path pattern. */
const MAX_PATH_PATTERN_LENGTH = 128;

/** One listener rule to a worker kind's target group. */
export interface SynapseWorkerRule {
  /** A stable construct id (renaming one replaces the rule). */
  readonly id: string;
  /** ALB path patterns (case-sensitive, `*` and `?`). */
  readonly paths: readonly string[];
  /** @default - any method */
  readonly methods?: readonly string[];
  /**
   * A /_synapse/admin/ route: it gets the admin rules' Cognito sign-in and sits before them (180–188).
   * @default false
   */
  readonly adminApi?: boolean;
  readonly targetGroup: elbv2.IApplicationTargetGroup;
}

/** Refuses rules the ALB would refuse at deploy, or that could not fit the priorities reserved for them. */
export function checkWorkerRules(rules: readonly SynapseWorkerRule[], adminApiAllowedCidrs: readonly string[]): void {
  const P = SYNAPSE_RULE_PRIORITIES;
  const blocks = [
    { admin: false, room: P.workersLast - P.workersFirst + 1, first: P.workersFirst, last: P.workersLast },
    { admin: true, room: P.workerAdminLast - P.workerAdminFirst + 1, first: P.workerAdminFirst, last: P.workerAdminLast },
  ];
  for (const b of blocks) {
    const n = rules.filter((r) => (r.adminApi ?? false) === b.admin).length;
    if (n > b.room) throw new Error(`Synapse worker routes: ${n} ${b.admin ? 'admin ' : ''}rules do not fit the ${b.room} priorities ${b.first}–${b.last}; group more paths per rule`);
  }
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw new Error(`Synapse worker routes: rule id "${r.id}" is used twice`);
    ids.add(r.id);
    const values = 1 + r.paths.length + (r.methods?.length ?? 0);
    if (r.paths.length === 0 || values > CONDITION_VALUES_PER_RULE) {
      throw new Error(`Synapse worker route ${r.id}: expected 1 or more path patterns and at most ${CONDITION_VALUES_PER_RULE} condition values with the host header, got ${values}`);
    }
    for (const path of r.paths) {
      if (!path.startsWith('/') || path.length > MAX_PATH_PATTERN_LENGTH || /\s/.test(path)) {
        throw new Error(`Synapse worker route ${r.id}: "${path}" is not an ALB path pattern (absolute, at most ${MAX_PATH_PATTERN_LENGTH} characters, no spaces)`);
      }
      // Only a rule that carries the admin sign-in may forward the admin API.
      if (path.startsWith('/_synapse/admin') !== (r.adminApi ?? false))
        throw new Error(`Synapse worker route ${r.id}: "${path}" and adminApi ${r.adminApi ?? false} disagree: /_synapse/admin paths, and only they, are admin routes`);
    }
    // A source-IP condition would not fit beside the host and paths; the allow-list has no worker admin rules yet.
    if (r.adminApi && adminApiAllowedCidrs.length > 0)
      throw new Error(`Synapse worker route ${r.id}: the media admin API on a worker cannot be combined with synapse.adminApiAllowedCidrs yet; leave the allow-list empty or run no media worker`);
  }
}

/** The CIDRs one allow rule holds: the host header and the path take two of its condition values. */
export const ALLOWED_CIDRS_PER_RULE = CONDITION_VALUES_PER_RULE - 2;
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
  /**
   * Rules to the workers (synapse.workers), at 210 onwards in this order; the catch-all to the main process then moves to 299.
   * @default - none: one process, its catch-all at 200
   */
  readonly workerRules?: readonly SynapseWorkerRule[];
}

const methodsOf = (r: SynapseWorkerRule) => (r.methods ? [elbv2.ListenerCondition.httpRequestMethods([...r.methods])] : []);

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
    // Checked before super(): refused rules leave no empty construct behind in the tree.
    checkWorkerRules(props.workerRules ?? [], props.adminApiAllowedCidrs);
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

    const workerRules = props.workerRules ?? [];
    const block = (admin: boolean) => workerRules.filter((r) => (r.adminApi ?? false) === admin);
    block(true).forEach((r, i) =>
      rule(r.id, SYNAPSE_RULE_PRIORITIES.workerAdminFirst + i, [...r.paths], props.adminSignIn.then(elbv2.ListenerAction.forward([r.targetGroup]), elbv2.UnauthenticatedAction.DENY), methodsOf(r)),
    );
    block(false).forEach((r, i) => rule(r.id, SYNAPSE_RULE_PRIORITIES.workersFirst + i, [...r.paths], elbv2.ListenerAction.forward([r.targetGroup]), methodsOf(r)));
    this.synapseRule = rule(
      'Synapse',
      workerRules.length > 0 ? SYNAPSE_RULE_PRIORITIES.synapseAfterWorkers : SYNAPSE_RULE_PRIORITIES.synapse,
      ['/_matrix/*', '/_synapse/client/*'],
      elbv2.ListenerAction.forward([props.synapse]),
    );
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
