import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { importSecret } from '../constructs/imported-secret';
import { CHAT_ROOM_DEFINITIONS, matrixRoomAlias } from '../../chat-domain/rooms';
import { chatServiceCommonProps } from '../construct-props';
import { Platform } from '../platform';
import { SynapseAdminUi } from './admin-ui-service';
import { AdminSignIn } from './admin-sign-in';
import { SynapseRoutes } from './alb-rules';
import { ADMIN_BOT_LOCALPART, SynapseBootstrap, SynapseDatabaseSetup } from './deploy-steps';
import { SynapseMediaBucket } from './media-bucket';
import { SynapseSecrets } from './secrets';
import { SynapseService } from './synapse-service';

export { ADMIN_UI_BASE_PATH, ADMIN_UI_HEALTH_CHECK } from './admin-ui-service';
export { SYNAPSE_RULE_PRIORITIES } from './alb-rules';
export { ADMIN_BOT_LOCALPART } from './deploy-steps';
export { SYNAPSE_HEALTH_CHECK } from './synapse-service';

/** The JSON key of the admin bot's access token in `adminBotTokenSecret`. */
export const ADMIN_BOT_TOKEN_SECRET_KEY = 'accessToken';

export interface ChatSynapseProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
  /**
   * The chat-clients secret (contract C4, `ChatShared.clientsSecret`): Synapse
   * reads `synapseOidcClientId` and `synapseOidcClientSecret` from it.
   */
  readonly clientsSecret: secretsmanager.ISecret;
  /**
   * The name of Synapse's database when this stack creates it.
   * @default - 'synapse', or `synapse.database.name` when the config adopts an existing database
   */
  readonly databaseName?: string;
}

/**
 * Implementation A of the seeds ("chat-synapse"): the Synapse homeserver and
 * its Admin UI on Fargate behind the shared ALB, media in S3, the `synapse`
 * database created during deploy, and a bootstrap during deploy that registers
 * the admin bot and creates the three rooms.
 */
export class ChatSynapse extends Construct {
  public readonly synapse: SynapseService;
  public readonly adminUi: SynapseAdminUi;
  /** Cognito sign-in at the ALB for /chat-admin* and /_synapse/admin/* (its own app client). */
  public readonly adminSignIn: AdminSignIn;
  public readonly routes: SynapseRoutes;
  public readonly secrets: SynapseSecrets;
  public readonly mediaBucket: s3.IBucket;
  public readonly databaseSetup: SynapseDatabaseSetup;
  public readonly bootstrap: SynapseBootstrap;
  /** Synapse's URL inside the VPC (private DNS), e.g. for the history-purge Lambda. */
  public readonly internalUrl: string;
  /** JSON secret with the admin bot's token under ADMIN_BOT_TOKEN_SECRET_KEY (written during deploy). */
  public readonly adminBotTokenSecret: secretsmanager.ISecret;
  /** The admin bot's user id, known once the bootstrap has run. */
  public readonly adminBotUserId: string;

  constructor(scope: Construct, id: string, props: ChatSynapseProps) {
    super(scope, id);
    const { config, platform } = props;
    const adopted = config.synapse.database.mode === 'import' ? config.synapse.database : undefined;
    if (adopted && props.databaseName && props.databaseName !== adopted.name) {
      throw new Error(`ChatSynapse: databaseName "${props.databaseName}" contradicts synapse.database.name "${adopted.name}" of the adopted database`);
    }
    const databaseName = adopted?.name ?? props.databaseName ?? 'synapse';

    // Adopting an existing homeserver (docs/operations.md, "Adopt the running homeserver"): its
    // signing key and its database role come from secrets the operator made; nothing is generated for them.
    this.secrets = new SynapseSecrets(this, 'Secrets', {
      prefix: config.prefix,
      importedSigningKey: config.synapse.signingKeySecretArn ? importSecret(this, 'ImportedSigningKey', config.synapse.signingKeySecretArn) : undefined,
      importedDatabase: adopted ? importSecret(this, 'ImportedDatabaseCredentials', adopted.secretArn) : undefined,
    });
    this.mediaBucket = new SynapseMediaBucket(this, 'Media', { retain: config.production }).bucket;
    this.databaseSetup = new SynapseDatabaseSetup(this, 'DatabaseSetup', { config, platform, secrets: this.secrets, databaseName });

    this.synapse = new SynapseService(this, 'Synapse', {
      ...chatServiceCommonProps(config, platform),
      securityGroup: platform.securityGroups.synapse,
      taskSize: config.services.synapse,
      serverName: config.matrixServerName,
      domainName: config.domainName,
      historyRetentionDays: config.synapse.historyRetentionDays,
      edgeProvider: config.edge.provider,
      database: platform.database.instance,
      userPool: platform.userPool.userPool,
      secrets: this.secrets,
      clientsSecret: props.clientsSecret,
      mediaBucket: this.mediaBucket,
      databaseName,
      // Everyone is entitled to Phenom Community: Synapse joins each new account at registration, before
      // the membership reconciler (lib/chat-shared/membership-reconciler.ts) adds the other rooms.
      autoJoin: {
        roomAliases: CHAT_ROOM_DEFINITIONS.filter((r) => r.key === 'community').map((r) => matrixRoomAlias(r, config.matrixServerName)),
        inviterLocalpart: ADMIN_BOT_LOCALPART,
      },
    });
    // Synapse refuses to start without its database.
    this.synapse.service.node.addDependency(this.databaseSetup.resource);

    this.adminUi = new SynapseAdminUi(this, 'AdminUi', {
      ...chatServiceCommonProps(config, platform),
      securityGroup: platform.securityGroups.ecsTasks,
      taskSize: config.services.synapseAdmin,
      domainName: config.domainName,
    });

    this.adminSignIn = new AdminSignIn(this, 'AdminSignIn', {
      userPool: platform.userPool.userPool,
      userPoolDomain: platform.userPool.domain,
      domainName: config.domainName,
      prefix: config.prefix,
    });
    this.routes = new SynapseRoutes(this, 'Routes', {
      listener: platform.listener,
      domainName: config.domainName,
      synapse: this.synapse.targetGroup,
      adminUi: this.adminUi.targetGroup,
      adminSignIn: this.adminSignIn,
      adminApiAllowedCidrs: config.synapse.adminApiAllowedCidrs,
    });
    // ECS refuses a target group that no listener rule uses yet.
    this.synapse.service.node.addDependency(this.routes.synapseRule);
    this.adminUi.service.node.addDependency(this.routes.adminUiRule);
    // The Admin UI is a client of Synapse's admin API and nothing else: it starts once Synapse is stable.
    this.adminUi.service.node.addDependency(this.synapse.service);

    this.bootstrap = new SynapseBootstrap(this, 'Bootstrap', { config, platform, secrets: this.secrets, synapse: this.synapse });
    this.internalUrl = this.synapse.internalUrl;
    this.adminBotTokenSecret = this.secrets.botToken;
    this.adminBotUserId = this.bootstrap.resource.getAttString('BotUserId');

    // At stack scope, so the output keys the runbook reads stay readable (no construct-path hash).
    new CfnOutput(Stack.of(this), 'AdminUiUrl', {
      value: `https://${config.domainName}/chat-admin/`,
      description: 'Synapse Admin: Cognito sign-in, then "Sign in with SSO"; members of chat-admin are Synapse server admins',
    });
    new CfnOutput(Stack.of(this), 'AdminBotUserId', { value: this.adminBotUserId, description: 'The Synapse admin bot registered during deploy' });
    new CfnOutput(Stack.of(this), 'AdminBotTokenSecretArn', { value: this.secrets.botToken.secretArn, description: 'JSON secret with the admin bot access token (key accessToken)' });
  }

  /** Lets `peer` call Synapse directly inside the VPC (client and admin APIs on 8008). */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.synapse.allowFrom(peer, description);
  }

  /** Lets `grantee` read the admin bot's access token. */
  public grantReadAdminBotToken(grantee: iam.IGrantable): iam.Grant {
    return this.secrets.botToken.grantRead(grantee);
  }
}
