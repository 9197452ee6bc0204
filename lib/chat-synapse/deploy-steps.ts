import { createHash } from 'node:crypto';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps, functionCommonProps, functionVpcProps } from '../constructs/chat-function';
import { acknowledgeNag } from '../nag';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { MATRIX_ROOMS } from '../../chat-domain/rooms';
import { SynapseSecrets } from './secrets';
import { logicalIdOf, SynapseService } from './synapse-service';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

/** The admin bot's localpart: @phenom-bot:<server name>. */
export const ADMIN_BOT_LOCALPART = 'phenom-bot';

export interface SynapseDatabaseSetupProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The RDS instance and its master secret: the step connects with it (to the chat database) to manage Synapse's. */
  readonly database: ChatFunctionDatabase;
  /** Synapse's secrets: the role's credentials, and whether they are an adopted server's (`databaseImported`). */
  readonly secrets: SynapseSecrets;
  /** Synapse's database on the instance. */
  readonly databaseName: string;
  /** The Matrix server name an adopted database must belong to. */
  readonly matrixServerName: string;
}

/**
 * Custom resource (lambda/synapse-database-setup): creates the `synapse` role, its rotation clone and
 * the database on RDS if missing, and sets the password of whichever of the two the secret names; or, when the secrets hold an adopted database's role (`SynapseSecrets.databaseImported`), checks
 * that it is this server's Synapse database and that its role can run Synapse, changing nothing.
 */
export class SynapseDatabaseSetup extends Construct {
  public readonly resource: ChatCustomResource;

  constructor(scope: Construct, id: string, props: SynapseDatabaseSetupProps) {
    super(scope, id);
    const mode = props.secrets.databaseImported ? 'import' : 'create';
    const handler = new ChatFunction(this, 'Handler', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      database: props.database,
      entry: 'synapse-database-setup/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.synapseDatabaseSetup,
      // Unchanged wording: ChatFunction derives its SG's GroupDescription from it, and a new one replaces the SG.
      description: 'Creates the Synapse role and database (UTF8, C collation, template0) if missing',
      timeout: Duration.seconds(DEPLOY_STEPS.synapseDatabase.timeoutSeconds),
      environment: {
        SYNAPSE_DB_SECRET_ARN: props.secrets.database.secretArn,
        SYNAPSE_DB_NAME: props.databaseName,
        SYNAPSE_DB_MODE: mode,
        SYNAPSE_SERVER_NAME: props.matrixServerName,
        // The role is fixed; the secret names it or its rotation clone (an adopted database: its own role).
        ...(props.secrets.databaseRole ? { SYNAPSE_DB_ROLE: props.secrets.databaseRole } : {}),
      },
    });
    props.secrets.database.grantRead(handler.function);
    this.resource = new ChatCustomResource(this, 'Resource', {
      onEvent: handler,
      resourceType: 'Custom::SynapseDatabase',
      // Mode and server name: switching to an adopted database (or renaming the server) re-runs the step.
      // RoleName too: it arrived with the rotation, whose new secret shape regenerates the password, so
      // the deploy that brings it re-runs the step, which sets that password before the first rotation
      // logs in with it (and makes the clone).
      properties: {
        DatabaseName: props.databaseName,
        DatabaseSecretArn: props.secrets.database.secretArn,
        Mode: mode,
        ServerName: props.matrixServerName,
        ...(props.secrets.databaseRole ? { RoleName: props.secrets.databaseRole } : {}),
      },
    });
  }
}

/** The bootstrap's isComplete step runs in the VPC (`vpc`, `vpcSubnets`), where it reaches Synapse directly. */
export interface SynapseBootstrapProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** Synapse's secrets: the registration secret, the bot's password, and the token secret it writes. */
  readonly secrets: SynapseSecrets;
  /** The homeserver: its internal URL, its task definition (a new one re-runs the step) and its security group. */
  readonly synapse: SynapseService;
}

/**
 * Custom resource: once Synapse is healthy, registers the admin bot, stores its
 * token, creates the three rooms and sets their power levels
 * (lambda/synapse-bootstrap). The onEvent step only accepts the request; the
 * isComplete step, polled every 15 s for up to 30 minutes of wall time
 * (DEPLOY_STEPS.synapseBootstrap), does the work.
 */
export class SynapseBootstrap extends Construct {
  public readonly resource: ChatCustomResource;

  constructor(scope: Construct, id: string, props: SynapseBootstrapProps) {
    super(scope, id);
    const { secrets, synapse } = props;
    const start = new ChatFunction(this, 'Start', {
      ...functionCommonProps(props),
      entry: 'synapse-bootstrap-start/index.ts',
      description: 'Accepts the Synapse bootstrap request (the work runs in the isComplete step)',
      timeout: Duration.seconds(DEPLOY_STEPS.synapseBootstrap.startTimeoutSeconds),
    });
    const bootstrap = new ChatFunction(this, 'Handler', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      entry: 'synapse-bootstrap/index.ts',
      description: 'Waits for Synapse, then registers the admin bot and creates the chat rooms',
      timeout: Duration.seconds(DEPLOY_STEPS.synapseBootstrap.timeoutSeconds),
      environment: {
        SYNAPSE_URL: synapse.internalUrl,
        BOT_LOCALPART: ADMIN_BOT_LOCALPART,
        REGISTRATION_SHARED_SECRET_ARN: secrets.registrationSharedSecret.secretArn,
        BOT_PASSWORD_SECRET_ARN: secrets.botPassword.secretArn,
        BOT_TOKEN_SECRET_ARN: secrets.botToken.secretArn,
      },
    });
    secrets.registrationSharedSecret.grantRead(bootstrap.function);
    secrets.botPassword.grantRead(bootstrap.function);
    secrets.botToken.grantRead(bootstrap.function);
    secrets.botToken.grantWrite(bootstrap.function);
    synapse.allowFrom(bootstrap, 'Synapse bootstrap Lambda (admin API inside the VPC)');

    this.resource = new ChatCustomResource(this, 'Resource', {
      onEvent: start,
      isComplete: bootstrap,
      queryInterval: Duration.seconds(DEPLOY_STEPS.synapseBootstrap.queryIntervalSeconds),
      totalTimeout: Duration.seconds(DEPLOY_STEPS.synapseBootstrap.totalTimeoutSeconds),
      resourceType: 'Custom::SynapseBootstrap',
      properties: {
        // Re-run whenever Synapse is redeployed with another task definition or the rooms change.
        TaskDefinitionArn: synapse.taskDefinition.taskDefinitionArn,
        Spec: createHash('sha256')
          .update(JSON.stringify({ bot: ADMIN_BOT_LOCALPART, rooms: MATRIX_ROOMS }))
          .digest('hex'),
      },
    });
    this.resource.node.addDependency(synapse.service);

    // With an isComplete handler the provider framework adds a Step Functions waiter; ChatCustomResource
    // acknowledges the onEvent side only.
    const provider = this.resource.node.findChild('Provider');
    acknowledgeNag(
      provider,
      ...['framework-isComplete', 'framework-onTimeout'].map((fid) => ({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(provider.node.findChild(fid))}.Arn>:*]`,
        reason: "The provider framework's waiter may invoke any version of its own isComplete/onTimeout function, and nothing else.",
      })),
      { id: 'AwsSolutions-SF1', reason: "The waiter state machine is the CDK provider framework's internal poll loop; each poll is logged by the bootstrap Lambda itself." },
      { id: 'AwsSolutions-SF2', reason: "The waiter state machine only polls one Lambda every 15 s; X-Ray would trace the framework's loop, not our code." },
    );
  }
}
