import { Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as actions from 'aws-cdk-lib/aws-elasticloadbalancingv2-actions';
import { Construct } from 'constructs';

/** Where the ALB receives Cognito's authorization code (fixed by ELB, served by the listener itself). */
export const ALB_IDP_RESPONSE_PATH = '/oauth2/idpresponse';

/**
 * How long one sign-in at the ALB lasts: a working day. The ALB refreshes Cognito's 1-hour tokens with
 * the refresh token inside this window, so the refresh token must live at least as long.
 */
export const ADMIN_SESSION_TIMEOUT = Duration.hours(8);

export interface AdminSignInProps {
  readonly userPool: cognito.IUserPool;
  /** The pool's hosted-UI domain (`ChatUserPool.domain`). */
  readonly userPoolDomain: cognito.IUserPoolDomain;
  /** The public host name; the ALB's callback is https://<domainName>/oauth2/idpresponse. */
  readonly domainName: string;
  /** `<projectName>-<env>`, the prefix of the app client's name. */
  readonly prefix: string;
}

/**
 * Cognito sign-in at the ALB for the Admin UI and the Synapse admin API: a dedicated confidential app
 * client (the ALB reads its secret from Cognito itself, so it is in no template and no task), and the
 * `authenticate-cognito` actions that put it in front of a forward.
 *
 * The ALB cannot look at groups, so this only proves "a person with an account in our pool". The
 * group gate is Synapse: its admin API answers only tokens of server admins, and server admin is
 * granted to members of `chat-admin` only (see lambda/shared/synapse-server-admins.ts).
 */
export class AdminSignIn extends Construct {
  public readonly client: cognito.UserPoolClient;
  private readonly props: AdminSignInProps;

  constructor(scope: Construct, id: string, props: AdminSignInProps) {
    super(scope, id);
    this.props = props;
    this.client = new cognito.UserPoolClient(this, 'AlbClient', {
      userPool: props.userPool,
      userPoolClientName: `${props.prefix}-synapse-admin-alb`,
      // The ALB's authenticate-cognito action requires a client with a secret and the code grant.
      generateSecret: true,
      // People sign in only through the hosted UI (the code grant); the explicit flows are just
      // ALLOW_REFRESH_TOKEN_AUTH, which the ALB uses to renew the session's tokens.
      authFlows: { userPassword: false },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        // openid is all the ALB needs; email lets the x-amzn-oidc-data header (and the access log) name the person.
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [`https://${props.domainName}${ALB_IDP_RESPONSE_PATH}`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: ADMIN_SESSION_TIMEOUT,
    });
  }

  /**
   * Cognito sign-in, then `next`. `authenticate` (pages) sends a browser without a session to the
   * hosted UI; `deny` (APIs) answers 401, because the SPA's fetch cannot follow a redirect to Cognito.
   */
  public then(next: elbv2.ListenerAction, onUnauthenticatedRequest: elbv2.UnauthenticatedAction): elbv2.ListenerAction {
    return new actions.AuthenticateCognitoAction({
      userPool: this.props.userPool,
      userPoolClient: this.client,
      userPoolDomain: this.props.userPoolDomain,
      scope: 'openid email',
      // One cookie name for both rules: a sign-in at /chat-admin/ also opens /_synapse/admin/* for that browser.
      sessionCookieName: 'AWSELBAuthSessionCookie',
      sessionTimeout: ADMIN_SESSION_TIMEOUT,
      onUnauthenticatedRequest,
      // The ALB calls Cognito's token and userInfo endpoints over HTTPS. The created ALB's security group
      // already allows all outbound traffic; an imported one must allow 443 out (README, load balancer import).
      allowHttpsOutbound: false,
      next,
    });
  }
}
