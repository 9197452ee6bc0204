import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { MATRIX_ROOMS } from '../../chat-domain/rooms';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionVpcProps, functionCommonProps, functionVpcProps } from '../constructs/chat-function';

/** The app's rooms by alias (the ones the Synapse bootstrap creates); the purge resolves them on every run. */
export function chatRoomAliases(matrixServerName: string): string[] {
  return MATRIX_ROOMS.map((room) => `#${room.alias}:${matrixServerName}`);
}

/** The purge function runs in the VPC (`vpc`, `vpcSubnets`), where it reaches Synapse directly. */
export interface SynapseHistoryPurgeProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** Days of room history kept: each run purges the events older than that. */
  readonly historyRetentionDays: number;
  /** The Matrix server name of the chat rooms' aliases (#<alias>:<server name>). */
  readonly matrixServerName: string;
  /** Synapse's base URL as reachable from the VPC, e.g. http://synapse.phenom-development.internal:8008. */
  readonly synapseUrl: string;
  /**
   * Synapse itself: the purge function's SG is allowed into it on `synapsePort`.
   * @default - no rule is added (the caller opens the path)
   */
  readonly synapse?: ec2.IConnectable;
  /**
   * The port the rule into `synapse` opens.
   * @default 8008 - Synapse's listener port
   */
  readonly synapsePort?: number;
  /** The secret holding a Synapse server-admin access token. */
  readonly adminTokenSecret: secretsmanager.ISecret;
  /**
   * The JSON key of the token inside the secret.
   * @default - the secret's whole value is the token
   */
  readonly adminTokenSecretKey?: string;
  /**
   * When the purge runs.
   * @default - daily at 03:30 UTC, a quiet hour for the seeds' users
   */
  readonly schedule?: events.Schedule;
}

/**
 * Seed 003's "purge old room events" maintenance, automated: an EventBridge rule
 * runs a Lambda daily that calls Synapse's purge_history admin API for each chat
 * room with a cut-off of `historyRetentionDays`.
 */
export class SynapseHistoryPurge extends Construct {
  public readonly handler: ChatFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SynapseHistoryPurgeProps) {
    super(scope, id);
    this.handler = new ChatFunction(this, 'Handler', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      entry: 'synapse-purge-history/index.ts',
      description: `Purges Synapse room history older than ${props.historyRetentionDays} days`,
      // A purge of a busy room can take minutes (seed 003); the handler polls until done or out of time.
      timeout: Duration.minutes(15),
      memorySizeMiB: 256,
      environment: {
        SYNAPSE_URL: props.synapseUrl,
        ADMIN_TOKEN_SECRET_ARN: props.adminTokenSecret.secretArn,
        ...(props.adminTokenSecretKey ? { ADMIN_TOKEN_SECRET_KEY_NAME: props.adminTokenSecretKey } : {}),
        RETENTION_DAYS: String(props.historyRetentionDays),
        ROOM_ALIASES: chatRoomAliases(props.matrixServerName).join(','),
      },
    });
    props.adminTokenSecret.grantRead(this.handler.function);
    if (props.synapse) {
      props.synapse.connections.allowFrom(this.handler, ec2.Port.tcp(props.synapsePort ?? 8008), 'Synapse history purge Lambda');
    }

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Daily Synapse history purge (seed 003 maintenance)',
      schedule: props.schedule ?? events.Schedule.cron({ minute: '30', hour: '3' }),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.handler.function, {
        // A failed run is retried; the purge is idempotent, so a retry is always safe.
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
      }),
    );
  }
}
