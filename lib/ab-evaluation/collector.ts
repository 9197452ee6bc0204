import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { AB_WINDOW_SECONDS } from '../../chat-domain/ab-metrics';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps } from '../constructs/chat-function';
import { databaseRoleSecretString, rotateDatabaseRoleSecret } from '../platform/secret-rotation';
import { POSTGRES_PORT } from '../platform/security-groups';
import { allowPutAbMetrics } from './put-metrics';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

/** The login roles the collector reads as (the usernames of their generated secrets). */
export const AB_READER_ROLES = { chat: 'ab_reader_chat', synapse: 'ab_reader_synapse' } as const;

export interface AbCollectorProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The chat database, as the master user: the deploy step creates the readers with it. */
  readonly database: ChatFunctionDatabase;
  /** The name of Synapse's database on the same instance. */
  readonly synapseDatabaseName: string;
  /** JSON `{username, password}` of the role that owns Synapse's tables (its username is read, never its password). */
  readonly synapseDatabaseSecret: secretsmanager.ISecret;
  /**
   * The role that owns Synapse's tables when its secret may name that role's rotation clone instead.
   * @default - the secret's username (an adopted database, whose secret is not rotated)
   */
  readonly synapseDatabaseRole?: string;
  /** The `Environment` dimension of every A/B metric (the stack prefix). */
  readonly environment: string;
  readonly matrixServerName: string;
  /**
   * Deploy steps after which the readers can be made: Synapse's database exists, and the chat tables
   * (the migrations). Synapse's tables may come later; see lambda/ab-reader-roles/setup.ts.
   */
  readonly readerDependencies: readonly IDependable[];
  /**
   * Resource properties that re-run the reader step when they change (e.g. Synapse's task definition, so
   * a Synapse upgrade's new tables are narrowed again on that deploy).
   * @default - none
   */
  readonly readerTriggers?: Record<string, string>;
}

/**
 * The A/B collector (lambda/ab-collector) every 5 minutes, reading each backend's database as a
 * read-only role of its own, and the deploy step that makes those roles (lambda/ab-reader-roles).
 * The collector may publish to Phenom/AB only, and never sees the master secret.
 */
export class AbCollector extends Construct {
  public readonly function: ChatFunction;
  public readonly readerRoles: ChatCustomResource;
  public readonly schedule: events.Rule;
  public readonly chatReaderSecret: secretsmanager.Secret;
  public readonly synapseReaderSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: AbCollectorProps) {
    super(scope, id);
    const common: ChatFunctionCommonProps = { prefix: props.prefix, logRetention: props.logRetention, retainLogs: props.retainLogs };
    const readerSecret = (cid: string, username: string, databaseName: string) =>
      new secretsmanager.Secret(this, cid, {
        secretName: `${props.prefix}-${username.replace(/_/g, '-')}`,
        description: `Credentials of the read-only ${username} role (A/B collector)`,
        // Shaped for the alternating-users rotation below; alphanumeric, as the rotation keeps it.
        generateSecretString: databaseRoleSecretString({ username, instance: props.database.instance, databaseName, masterSecret: props.database.secret }),
      });
    this.chatReaderSecret = readerSecret('ChatReaderSecret', AB_READER_ROLES.chat, props.database.databaseName);
    this.synapseReaderSecret = readerSecret('SynapseReaderSecret', AB_READER_ROLES.synapse, props.synapseDatabaseName);

    const setup = new ChatFunction(this, 'ReaderRolesHandler', {
      ...common,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      database: props.database,
      entry: 'ab-reader-roles/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.abReaderRoles,
      description: 'Creates the A/B collector read-only roles on the chat and Synapse databases',
      timeout: Duration.minutes(2),
      environment: {
        CHAT_READER_SECRET_ARN: this.chatReaderSecret.secretArn,
        SYNAPSE_READER_SECRET_ARN: this.synapseReaderSecret.secretArn,
        SYNAPSE_DB_SECRET_ARN: props.synapseDatabaseSecret.secretArn,
        SYNAPSE_DB_NAME: props.synapseDatabaseName,
        ...(props.synapseDatabaseRole ? { SYNAPSE_DB_ROLE: props.synapseDatabaseRole } : {}),
      },
    });
    this.chatReaderSecret.grantRead(setup.function);
    this.synapseReaderSecret.grantRead(setup.function);
    props.synapseDatabaseSecret.grantRead(setup.function);
    this.readerRoles = new ChatCustomResource(this, 'ReaderRoles', {
      onEvent: setup,
      resourceType: 'Custom::AbReaderRoles',
      properties: {
        ChatReaderSecretArn: this.chatReaderSecret.secretArn,
        SynapseReaderSecretArn: this.synapseReaderSecret.secretArn,
        SynapseDatabaseName: props.synapseDatabaseName,
        // A changed property re-runs the step. This one appeared with the secrets' rotation shape, whose new
        // generateSecretString regenerates both passwords: the step re-sets the roles to them in that same deploy.
        MasterSecretArn: props.database.secret.secretArn,
        ...props.readerTriggers,
      },
    });
    for (const dependency of props.readerDependencies) this.readerRoles.node.addDependency(dependency);
    // The collector re-reads a rotated secret when the database refuses the one it holds (lambda/shared/database.ts).
    for (const [rid, secret] of [
      ['ChatReaderRotation', this.chatReaderSecret],
      ['SynapseReaderRotation', this.synapseReaderSecret],
    ] as const) {
      rotateDatabaseRoleSecret(this, rid, {
        secret,
        masterSecret: props.database.secret,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        database: props.database,
        roleCreatedBy: [this.readerRoles],
      });
    }

    const host = props.database.instance.dbInstanceEndpointAddress;
    const port = props.database.instance.dbInstanceEndpointPort;
    this.function = new ChatFunction(this, 'Function', {
      ...common,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      entry: 'ab-collector/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.abCollector,
      description: 'A/B collector: both backends usage as Phenom/AB metrics every 5 minutes',
      // Inside the 5-minute period, so a slow run never overlaps the next (the pool cuts statements at 20 s).
      timeout: Duration.seconds(60),
      environment: {
        AB_ENVIRONMENT: props.environment,
        MATRIX_SERVER_NAME: props.matrixServerName,
        CHAT_DB_SECRET_ARN: this.chatReaderSecret.secretArn,
        CHAT_DB_HOST: host,
        CHAT_DB_PORT: port,
        CHAT_DB_NAME: props.database.databaseName,
        SYNAPSE_DB_SECRET_ARN: this.synapseReaderSecret.secretArn,
        SYNAPSE_DB_HOST: host,
        SYNAPSE_DB_PORT: port,
        SYNAPSE_DB_NAME: props.synapseDatabaseName,
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      },
    });
    this.chatReaderSecret.grantRead(this.function.function);
    this.synapseReaderSecret.grantRead(this.function.function);
    props.database.instance.connections.allowFrom(this.function.securityGroup!, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from the A/B collector');
    allowPutAbMetrics(this.function.function);

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'A/B collector, every collector window',
      schedule: events.Schedule.rate(Duration.seconds(AB_WINDOW_SECONDS)),
      targets: [new targets.LambdaFunction(this.function.function)],
    });
    // A run before its roles exist fails to log in; only the schedule invokes it, so the schedule waits for the step.
    this.schedule.node.addDependency(this.readerRoles.resource);
  }
}
