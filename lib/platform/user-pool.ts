import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { acknowledgeNag } from '../nag';
import { Construct } from 'constructs';

/**
 * How the created pool sends sign-up codes and password resets: through SES, from this address.
 */
export interface UserPoolEmailProps {
  /** The From address; with no `sesIdentityArn`, its domain is the SES identity. */
  readonly fromAddress: string;
  /**
   * The sender name shown beside the address.
   * @default - the address alone
   */
  readonly fromName?: string;
  /**
   * Where replies go.
   * @default - to the From address
   */
  readonly replyTo?: string;
  /**
   * The verified SES identity (domain or address) to send from, possibly in another account.
   * @default - the From address's domain, in the stack's account and region
   */
  readonly sesIdentityArn?: string;
}

/** A user pool created by ChatUserPool, with e-mail sign-in and a Cognito hosted-UI domain. */
export interface CreatedUserPoolProps {
  /** The pool is named `<prefix>-chat-users`. */
  readonly prefix: string;
  /** The hosted UI is at `<domainPrefix>.auth.<region>.amazoncognito.com`. */
  readonly domainPrefix: string;
  /**
   * Send the pool's e-mail through SES.
   * @default - Cognito's built-in sender, whose small daily quota suits development only
   */
  readonly email?: UserPoolEmailProps;
  /** Cognito refuses to delete the pool while this is on. */
  readonly deletionProtection: boolean;
  /** Keep the pool (and its users) when it leaves the stack; else it is deleted with it. */
  readonly retain: boolean;
}

/** An existing pool, imported by id; it keeps whatever triggers it already has. */
export interface ImportedUserPoolProps {
  /** The pool's id and hosted-UI domain. */
  readonly existing: {
    /** E.g. `us-east-1_AbCdEfGhI`. */
    readonly userPoolId: string;
    /** The hosted-UI domain, e.g. `phenom.auth.us-east-1.amazoncognito.com`, or a custom domain. */
    readonly domain: string;
  };
}

export type UserPoolProps = CreatedUserPoolProps | ImportedUserPoolProps;

/**
 * The Cognito user pool shared by both chat backends. Created with e-mail sign-in,
 * or imported by id (an imported pool keeps whatever triggers it already has).
 */
export class ChatUserPool extends Construct {
  public readonly userPool: cognito.IUserPool;
  /** The hosted-UI domain name, e.g. phenom-development-chat.auth.us-east-1.amazoncognito.com. */
  public readonly hostedUiDomain: string;
  /** True when the pool is created by this app, so triggers can be attached directly. */
  public readonly created: boolean;
  /**
   * The hosted-UI domain as a construct, for the ALB's authenticate-cognito action (which wants the
   * prefix of a Cognito domain, or the full name of a custom one). Created here, or imported from `domain`.
   */
  public readonly domain: cognito.IUserPoolDomain;

  constructor(scope: Construct, id: string, props: UserPoolProps) {
    super(scope, id);
    if ('existing' in props) {
      const pool = props.existing;
      this.userPool = cognito.UserPool.fromUserPoolId(this, 'UserPool', pool.userPoolId);
      this.hostedUiDomain = pool.domain;
      this.created = false;
      const prefix = /^([a-z0-9-]+)\.auth\.[a-z0-9-]+\.amazoncognito\.com$/.exec(pool.domain);
      this.domain = cognito.UserPoolDomain.fromDomainName(this, 'HostedUiDomain', prefix ? prefix[1] : pool.domain);
      return;
    }

    const pool = props;
    const userPool = new cognito.UserPool(this, 'UserPool', {
      email: poolEmail(pool.email),
      userPoolName: `${pool.prefix}-chat-users`,
      // Essentials is the default plan for new pools and is what V2 pre-token-generation events need.
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      selfSignUpEnabled: true,
      autoVerify: { email: true },
      standardAttributes: {
        email: { required: true, mutable: true },
        preferredUsername: { required: false, mutable: true },
        fullname: { required: false, mutable: true },
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: pool.deletionProtection,
      // Plain Retain, not RetainExceptOnCreate: with deletion protection ACTIVE, Cognito refuses DeleteUserPool, so a
      // rollback of a failed first deploy could not delete the pool and would end in ROLLBACK_FAILED. Cognito does
      // not require pool names to be unique, so the empty pool such a rollback leaves behind does not block the retry.
      removalPolicy: pool.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (pool.email?.sesIdentityArn) {
      // withSES builds the identity ARN in this stack's account; a configured identity may live in another one.
      (userPool.node.defaultChild as cognito.CfnUserPool).addPropertyOverride('EmailConfiguration.SourceArn', pool.email.sesIdentityArn);
    }
    // Synapse's OIDC login redirects to this hosted UI.
    this.domain = userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: pool.domainPrefix } });
    this.userPool = userPool;
    this.hostedUiDomain = `${pool.domainPrefix}.auth.${userPool.env.region}.amazoncognito.com`;
    this.created = true;

    acknowledgeNag(
      userPool,
      { id: 'AwsSolutions-COG2', reason: 'The seeds specify optional MFA (TOTP) for chat users; requiring it would block mobile sign-up.' },
      {
        id: 'AwsSolutions-COG3',
        reason: 'Threat protection (advanced security) needs the Plus feature plan; the pool uses Essentials, with a strict password policy and optional TOTP.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason: 'The Plus plan is priced per monthly active user; the chat pool stays on Essentials, which covers the V2 pre-token trigger and TOTP it needs.',
      },
    );
  }
}

/**
 * How the pool sends sign-up codes and password resets. Cognito's built-in sender "allows only a
 * limited number of emails each day", below what typical production needs (Cognito API reference,
 * EmailConfigurationType), so a configured `email` sends through SES (EmailSendingAccount
 * DEVELOPER, the identity's SES limits). Without one (development) the pool keeps Cognito's sender.
 */
function poolEmail(email: UserPoolEmailProps | undefined): cognito.UserPoolEmail {
  if (!email) return cognito.UserPoolEmail.withCognito();
  return cognito.UserPoolEmail.withSES({
    fromEmail: email.fromAddress,
    fromName: email.fromName,
    replyTo: email.replyTo,
    // With no identity ARN configured, the sending identity is the from address's domain in this account and region.
    sesVerifiedDomain: email.sesIdentityArn ? undefined : email.fromAddress.split('@')[1],
  });
}
