import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { rotateDatabaseRoleSecret } from '../platform/secret-rotation';
import { CHAT_ROOM_DEFINITIONS, matrixRoomAlias } from '../../chat-domain/rooms';
import { ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { ChatFunctionDatabase, functionCommonProps, functionVpcProps } from '../constructs/chat-function';
import { SynapseAdminUi } from './admin-ui-service';
import { AdminSignIn } from './admin-sign-in';
import { SynapseRoutes, SynapseWorkerRule } from './alb-rules';
import { ADMIN_BOT_LOCALPART, SynapseBootstrap, SynapseDatabaseSetup } from './deploy-steps';
import { SynapseMediaBucket } from './media-bucket';
import { SynapseSecrets } from './secrets';
import { SynapseService } from './synapse-service';
import { SynapseWorkerFleet } from './worker-fleet';
import { synapseImageVersion, synapseWorkerProcesses, synapseWorkerRouteGroups, SynapseWorkerLayout, renderWorkerYaml } from './workers';
import { REDIS_PORT } from './replication-redis';

export { ADMIN_UI_BASE_PATH, ADMIN_UI_HEALTH_CHECK } from './admin-ui-service';
export { SYNAPSE_RULE_PRIORITIES } from './alb-rules';
export { ADMIN_BOT_LOCALPART, SynapseBootstrap, SynapseDatabaseSetup } from './deploy-steps';
export type { SynapseBootstrapProps, SynapseDatabaseSetupProps } from './deploy-steps';
export { SYNAPSE_HEALTH_CHECK } from './synapse-service';

/** The JSON key of the admin bot's access token in `adminBotTokenSecret`. */
export const ADMIN_BOT_TOKEN_SECRET_KEY = 'accessToken';

/** A homeserver's existing database, adopted as it is (docs/operations.md, "Adopt the running homeserver"). */
export interface AdoptedSynapseDatabase {
  /** The database's name on the RDS instance. */
  readonly name: string;
  /** JSON `{username, password}` of its existing role; Synapse connects as it and nothing changes that role. */
  readonly credentials: secretsmanager.ISecret;
}

/** The common service props are those of both tasks (Synapse and the Admin UI) and of the deploy-time functions. */
export interface ChatSynapseProps extends ChatServiceCommonProps {
  /** The VPC the deploy-time functions (database setup, bootstrap) run in, in `vpcSubnets`. */
  readonly vpc: ec2.IVpc;
  /** The Synapse tasks' security group (8008 from the ALB; out to RDS and 443). */
  readonly synapseSecurityGroup: ec2.ISecurityGroup;
  /** The Admin UI tasks' security group (80 from the ALB). */
  readonly adminUiSecurityGroup: ec2.ISecurityGroup;
  /** CPU and memory of a Synapse task. */
  readonly synapseTaskSize: TaskSize;
  /** CPU and memory of an Admin UI task. */
  readonly adminUiTaskSize: TaskSize;
  /** The Matrix server name (the part after the colon in user ids and room aliases). */
  readonly matrixServerName: string;
  /** The public host name: Synapse's public_baseurl, the Admin UI and the ALB rules' host header. */
  readonly domainName: string;
  /** Days Synapse keeps room history before its retention purge removes it. */
  readonly historyRetentionDays: number;
  /** What is in front of the ALB (`cloudflare` or `none`), which decides whose client address the edge proxy believes. */
  readonly edgeProvider: string;
  /**
   * The RDS instance Synapse's database lives on, with its master secret: the setup step connects
   * with it to create (or, for an adopted database, check) Synapse's role and database.
   */
  readonly database: ChatFunctionDatabase;
  /** The user pool Synapse signs users in with over OIDC, and the ALB's admin sign-in uses. */
  readonly userPool: cognito.IUserPool;
  /** The pool's hosted-UI domain, for the ALB's authenticate-cognito action in front of the admin paths. */
  readonly userPoolDomain: cognito.IUserPoolDomain;
  /** The shared ALB's HTTPS listener the Matrix and admin routes are added to. */
  readonly listener: elbv2.IApplicationListener;
  /**
   * The chat-clients secret (contract C4, `ChatShared.clientsSecret`): Synapse
   * reads `synapseOidcClientId` and `synapseOidcClientSecret` from it.
   */
  readonly clientsSecret: secretsmanager.ISecret;
  /**
   * Source CIDRs, as the ALB sees them, that alone may reach `/_synapse/admin/*`.
   * @default - from anywhere, behind Cognito sign-in at the ALB and Synapse's own admin check
   */
  readonly adminApiAllowedCidrs?: readonly string[];
  /**
   * The name of Synapse's database when this construct creates it.
   * @default - 'synapse', or `adoptedDatabase.name` when a database is adopted
   */
  readonly databaseName?: string;
  /**
   * Adopt this existing database instead of creating one: the setup step checks it is this server's
   * Synapse database and that its role can run Synapse, changing nothing.
   * @default - a `synapse` role with a generated password and its database are created if missing
   */
  readonly adoptedDatabase?: AdoptedSynapseDatabase;
  /**
   * An existing homeserver's signing key (its key file line), to keep that server's federation identity.
   * @default - a seed is generated and the image derives the key from it (a new identity)
   */
  readonly signingKeySecret?: secretsmanager.ISecret;
  /**
   * Keep the media bucket (and every uploaded file) when the stack is deleted.
   * @default false - the bucket and its objects are deleted with the stack
   */
  readonly retainMedia?: boolean;
  /**
   * Synapse's workers beside the main process (synapse.workers), with their Redis, services and ALB rules.
   * @default - one process, no Redis
   */
  readonly workers?: SynapseWorkersProps;
}

/** How many of each Synapse worker to run, and the replication Redis's size. */
export interface SynapseWorkersProps {
  /** Generic workers: scaled on CPU between these. */
  readonly genericMinCount: number;
  readonly genericMaxCount: number;
  readonly federationSenders: number;
  /** 0 or 1. */
  readonly mediaRepository: number;
  readonly eventPersisters: number;
  /** ElastiCache node type, e.g. cache.t4g.small. */
  readonly redisNodeType: string;
  readonly redisReplicas: number;
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
  /**
   * The hosted alternating-users rotation of Synapse's generated database secret (every 30 days);
   * none for an adopted database, whose secret the operator owns.
   */
  public readonly databaseRotation?: secretsmanager.RotationSchedule;
  public readonly bootstrap: SynapseBootstrap;
  /** Synapse's URL inside the VPC (private DNS), e.g. for the history-purge Lambda. */
  public readonly internalUrl: string;
  /** JSON secret with the admin bot's token under ADMIN_BOT_TOKEN_SECRET_KEY (written during deploy). */
  public readonly adminBotTokenSecret: secretsmanager.ISecret;
  /** The admin bot's user id, known once the bootstrap has run. */
  public readonly adminBotUserId: string;
  /** The workers and their Redis, when `workers` is set. */
  public readonly workers?: SynapseWorkerFleet;

  constructor(scope: Construct, id: string, props: ChatSynapseProps) {
    const adopted = props.adoptedDatabase;
    // Checked before super(): refused props leave no empty construct behind in the tree.
    if (adopted && props.databaseName && props.databaseName !== adopted.name) {
      throw new Error(`${id}: databaseName "${props.databaseName}" contradicts adoptedDatabase.name "${adopted.name}"`);
    }
    super(scope, id);
    const databaseName = adopted?.name ?? props.databaseName ?? 'synapse';
    const functionProps = { ...functionCommonProps(props), ...functionVpcProps(props) };

    // Adopting an existing homeserver (docs/operations.md, "Adopt the running homeserver"): its
    // signing key and its database role come from secrets the operator made; nothing is generated for them.
    this.secrets = new SynapseSecrets(this, 'Secrets', {
      prefix: props.prefix,
      importedSigningKey: props.signingKeySecret,
      importedDatabase: adopted?.credentials,
      database: { instance: props.database.instance, databaseName, masterSecret: props.database.secret },
    });
    this.mediaBucket = new SynapseMediaBucket(this, 'Media', { retain: props.retainMedia ?? false }).bucket;
    this.databaseSetup = new SynapseDatabaseSetup(this, 'DatabaseSetup', {
      ...functionProps,
      database: props.database,
      secrets: this.secrets,
      databaseName,
      matrixServerName: props.matrixServerName,
    });
    const serviceProps: ChatServiceCommonProps = { ...fargateCommonProps(props), prefix: props.prefix };
    const w = props.workers;
    const workerLayout: SynapseWorkerLayout | undefined = w && {
      counts: { generic: w.genericMinCount, 'federation-sender': w.federationSenders, media: w.mediaRepository, 'event-persister': w.eventPersisters },
      // The namespace SynapseService makes (its Cloud Map names are <name>.synapse.<prefix>.internal).
      discoveryDomain: `synapse.${props.prefix}.internal`,
      redis: { port: REDIS_PORT, tls: true },
      synapseVersion: synapseImageVersion(),
    };
    this.synapse = new SynapseService(this, 'Synapse', {
      ...serviceProps,
      securityGroup: props.synapseSecurityGroup,
      taskSize: props.synapseTaskSize,
      serverName: props.matrixServerName,
      domainName: props.domainName,
      historyRetentionDays: props.historyRetentionDays,
      edgeProvider: props.edgeProvider,
      database: props.database.instance,
      userPool: props.userPool,
      secrets: this.secrets,
      clientsSecret: props.clientsSecret,
      mediaBucket: this.mediaBucket,
      databaseName,
      workerLayout,
      // Everyone is entitled to Phenom Community: Synapse joins each new account at registration, before
      // the membership reconciler (lib/chat-shared/membership-reconciler.ts) adds the other rooms.
      autoJoin: {
        roomAliases: CHAT_ROOM_DEFINITIONS.filter((r) => r.key === 'community').map((r) => matrixRoomAlias(r, props.matrixServerName)),
        inviterLocalpart: ADMIN_BOT_LOCALPART,
      },
    });
    // Synapse refuses to start without its database.
    this.synapse.service.node.addDependency(this.databaseSetup.resource);

    // Synapse reads the password at start: the stack restarts it after each rotation (RestartOnRotation).
    if (!this.secrets.databaseImported) {
      this.databaseRotation = rotateDatabaseRoleSecret(this, 'DatabaseRotation', {
        secret: this.secrets.database,
        masterSecret: props.database.secret,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        database: props.database,
        // After the setup step has set the password the rotation first logs in with, and after the
        // service exists, so the restart that follows the first rotation (at deploy) finds it.
        roleCreatedBy: [this.databaseSetup.resource, this.synapse.service],
      });
    }

    if (workerLayout && w) {
      const wiring = {
        database: props.database.instance,
        userPool: props.userPool,
        secrets: this.secrets,
        clientsSecret: props.clientsSecret,
        mediaBucket: this.mediaBucket,
        edgeProvider: props.edgeProvider,
        region: Stack.of(this).region,
      };
      this.workers = new SynapseWorkerFleet(this, 'Workers', {
        ...serviceProps,
        ...wiring,
        vpc: props.vpc,
        taskSize: props.synapseTaskSize,
        namespace: this.synapse.fargate.namespace!,
        loadBalancer: props.listener,
        main: this.synapse.service,
        mainContainer: this.synapse.fargate.containers.Synapse!,
        redisNodeType: w.redisNodeType,
        redisReplicas: w.redisReplicas,
        workers: synapseWorkerProcesses(workerLayout).map((process) => ({
          process,
          configYaml: renderWorkerYaml(this.synapse.homeserverInput, workerLayout, process.serviceName),
          minCount: process.scalable ? w.genericMinCount : 1,
          maxCount: process.scalable ? w.genericMaxCount : 1,
        })),
      });
      // Workers replicate from the main process and read the schema it migrates.
      for (const worker of this.workers.workers.values()) worker.service.node.addDependency(this.synapse.service);
    }

    this.adminUi = new SynapseAdminUi(this, 'AdminUi', {
      ...serviceProps,
      securityGroup: props.adminUiSecurityGroup,
      taskSize: props.adminUiTaskSize,
      domainName: props.domainName,
    });

    this.adminSignIn = new AdminSignIn(this, 'AdminSignIn', {
      userPool: props.userPool,
      userPoolDomain: props.userPoolDomain,
      domainName: props.domainName,
      prefix: props.prefix,
    });
    const workerRules = workerLayout && this.workers ? workerRulesFor(workerLayout, this.workers) : [];
    this.routes = new SynapseRoutes(this, 'Routes', {
      listener: props.listener,
      domainName: props.domainName,
      synapse: this.synapse.targetGroup,
      adminUi: this.adminUi.targetGroup,
      adminSignIn: this.adminSignIn,
      adminApiAllowedCidrs: props.adminApiAllowedCidrs ?? [],
      workerRules,
    });
    // ECS refuses a target group that no listener rule uses yet.
    for (const worker of this.workers?.workers.values() ?? []) {
      const first = workerRules.findIndex((r) => r.targetGroup === worker.targetGroup);
      if (first >= 0) worker.service.node.addDependency(this.routes.node.findChild(workerRules[first]!.id));
    }
    // ECS refuses a target group that no listener rule uses yet.
    this.synapse.service.node.addDependency(this.routes.synapseRule);
    this.adminUi.service.node.addDependency(this.routes.adminUiRule);
    // The Admin UI is a client of Synapse's admin API and nothing else: it starts once Synapse is stable.
    this.adminUi.service.node.addDependency(this.synapse.service);

    this.bootstrap = new SynapseBootstrap(this, 'Bootstrap', { ...functionProps, secrets: this.secrets, synapse: this.synapse });
    this.internalUrl = this.synapse.internalUrl;
    this.adminBotTokenSecret = this.secrets.botToken;
    this.adminBotUserId = this.bootstrap.resource.getAttString('BotUserId');

    // At stack scope, so the output keys the runbook reads stay readable (no construct-path hash).
    new CfnOutput(Stack.of(this), 'AdminUiUrl', {
      value: `https://${props.domainName}/chat-admin/`,
      description: 'Synapse Admin: Cognito sign-in, then "Sign in with SSO"; members of chat-admin are Synapse server admins',
    });
    new CfnOutput(Stack.of(this), 'AdminBotUserId', { value: this.adminBotUserId, description: 'The Synapse admin bot registered during deploy' });
    new CfnOutput(Stack.of(this), 'AdminBotTokenSecretArn', { value: this.secrets.botToken.secretArn, description: 'JSON secret with the admin bot access token (key accessToken)' });
  }

  /** Lets `peer` call Synapse directly inside the VPC (client and admin APIs on 8008). */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.synapse.allowFrom(peer, description);
  }
}

/** The ALB rules of workers/routes.ts's groups, each to the target group of the worker kind it names. */
function workerRulesFor(layout: SynapseWorkerLayout, fleet: SynapseWorkerFleet): SynapseWorkerRule[] {
  const byKind = new Map([...fleet.workers.values()].map((w) => [w.kind, w]));
  return synapseWorkerRouteGroups(layout).map((g) => {
    const targetGroup = byKind.get(g.kind)?.targetGroup;
    if (!targetGroup) throw new Error(`Synapse worker route ${g.id} names kind ${g.kind}, which runs no service with a target group`);
    const id = `Worker${g.id
      .split('-')
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join('')}`;
    return { id, paths: g.pathPatterns, methods: g.methods, adminApi: g.adminApi, targetGroup };
  });
}
