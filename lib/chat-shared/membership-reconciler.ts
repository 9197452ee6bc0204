import { Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ChatDatabaseClientProps, ChatFunction, ChatFunctionCommonProps, functionCommonProps } from '../constructs/chat-function';
import { LIFT_EXPIRED_MODERATION } from '../../chat-domain/reconciler-requests';
import { membershipReconcilerFunctionName } from './cognito-triggers';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

/** The function runs in the VPC and writes Hasura Lite's users and chat_members in the database. */
export interface ChatMembershipReconcilerProps extends ChatFunctionCommonProps, ChatDatabaseClientProps {
  /** The pool whose users and groups are reconciled. */
  readonly userPool: cognito.IUserPool;
  /** The Synapse OIDC app client: a sign-in through it is a Matrix login whose account may not exist yet. */
  readonly synapseOidcClient: cognito.IUserPoolClient;
  /** Synapse inside the VPC, the admin bot's token and who lets the function in. */
  readonly synapse: {
    /** Synapse's URL inside the VPC (its Matrix client and admin APIs). */
    readonly internalUrl: string;
    /** Synapse's tasks: the function is let in on 8008. */
    readonly connections: ec2.IConnectable;
    /** The admin bot's access-token secret; the function may read it. */
    readonly botTokenSecret: secretsmanager.ISecret;
    /** The JSON key of the token in botTokenSecret. */
    readonly botTokenSecretKey: string;
  };
  /**
   * How often the whole pool is reconciled.
   * @default - every 5 minutes: a group change reaches both backends within 10 minutes, inside issue #13's 15
   */
  readonly schedule?: events.Schedule;
}

/**
 * The membership reconciler (lambda/membership-reconciler): makes Hasura Lite's users/chat_members
 * and the Synapse rooms' memberships and power levels follow the Cognito groups. Runs for the whole
 * pool on a schedule, and for one user after each sign-in (the post-authentication trigger invokes
 * it by its fixed name). See lib/chat-synapse/README.md, "Room membership".
 */
export class ChatMembershipReconciler extends Construct {
  public readonly handler: ChatFunction;
  public readonly rule: events.Rule;
  /** Every minute: ends the timed mutes and bans whose time is up (lambda/membership-reconciler/moderation-expiry.ts). */
  public readonly moderationExpiryRule: events.Rule;

  constructor(scope: Construct, id: string, props: ChatMembershipReconcilerProps) {
    super(scope, id);
    const { userPool, synapse } = props;
    this.handler = new ChatFunction(this, 'Handler', {
      ...functionCommonProps(props),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      database: props.database,
      entry: 'membership-reconciler/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.membershipReconciler,
      functionName: membershipReconcilerFunctionName(props.prefix),
      description: 'Makes Hasura Lite and Synapse room memberships follow the Cognito groups',
      // A full run lists the pool and reads three rooms; a sign-in run waits up to 45 s for the
      // Matrix account. Four minutes stays under the 5-minute schedule, so full runs do not overlap.
      timeout: Duration.minutes(4),
      memorySizeMiB: 512,
      environment: {
        USER_POOL_ID: userPool.userPoolId,
        SYNAPSE_URL: synapse.internalUrl,
        SYNAPSE_OIDC_CLIENT_ID: props.synapseOidcClient.userPoolClientId,
        BOT_TOKEN_SECRET_ARN: synapse.botTokenSecret.secretArn,
        BOT_TOKEN_SECRET_KEY_NAME: synapse.botTokenSecretKey,
      },
    });
    this.handler.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cognito-idp:ListUsers', 'cognito-idp:ListUsersInGroup', 'cognito-idp:AdminGetUser', 'cognito-idp:AdminListGroupsForUser'],
        resources: [userPool.userPoolArn],
      }),
    );
    synapse.botTokenSecret.grantRead(this.handler.function);
    // 8008: Synapse's only listener (SYNAPSE_LISTENER_PORT; chat-synapse imports this folder, not the other way round).
    synapse.connections.connections.allowFrom(this.handler, ec2.Port.tcp(8008), 'Membership reconciler Lambda (Matrix client and admin API)');
    // A failed sign-in run is retried once by Lambda; the next scheduled run covers the rest.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 1, maxEventAge: Duration.minutes(10) });

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Reconciles chat room memberships with the Cognito groups',
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(5)),
    });
    // No retries of a scheduled run: the next one starts 5 minutes later and does the same work.
    this.rule.addTarget(new targets.LambdaFunction(this.handler.function, { retryAttempts: 0, maxEventAge: Duration.minutes(5) }));

    // The one place timed mutes and bans end (not a timer in each MCP replica): the bot token, the
    // Synapse URL and the network path are this function's already. A run takes well under a second.
    this.moderationExpiryRule = new events.Rule(this, 'ModerationExpirySchedule', {
      description: 'Ends timed chat mutes and bans in Synapse whose time is up',
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    this.moderationExpiryRule.addTarget(
      new targets.LambdaFunction(this.handler.function, {
        event: events.RuleTargetInput.fromObject({ kind: LIFT_EXPIRED_MODERATION }),
        // The next minute's run does the same work; an older event would only repeat it.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    );
  }
}
