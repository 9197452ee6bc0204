import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { ADMIN_UI_BASE_PATH } from './admin-ui-service';
import { HomeserverConfigInput, SYNAPSE_LISTENER_PORT } from './homeserver-config';
import { SynapseMetricsSidecar } from './metrics-sidecar';
import { SynapseSecrets } from './secrets';
import { finishSynapseTask, SYNAPSE_PLAIN_ENVIRONMENT_REASON, SYNAPSE_TARGET, synapseContainers, SynapseProcessWiring } from './synapse-task';
import { renderMainProcessYaml, SYNAPSE_MAIN_DISCOVERY_NAME, SynapseWorkerLayout } from './workers';

export interface SynapseServiceProps extends ChatServiceCommonProps {
  /** The seed's Synapse security group (8008 from the ALB; out to RDS and 443). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** CPU and memory of the task (`services.synapse`). */
  readonly taskSize: TaskSize;
  /** The Matrix server name (the part after the colon in user ids). */
  readonly serverName: string;
  /** The public domain: Synapse's public_baseurl is https://<domainName>. */
  readonly domainName: string;
  /** Days Synapse keeps room history before its retention purge removes it. */
  readonly historyRetentionDays: number;
  /** What is in front of the ALB, which decides whose client address the edge proxy believes. */
  readonly edgeProvider: string;
  /** The RDS instance holding Synapse's database (host and port). */
  readonly database: rds.IDatabaseInstance;
  /** The user pool Synapse signs users in with over OIDC. */
  readonly userPool: cognito.IUserPool;
  readonly secrets: SynapseSecrets;
  /** The chat-clients secret (contract C4): the Synapse OIDC client id and secret. */
  readonly clientsSecret: secretsmanager.ISecret;
  /** The media store (synapse-s3-storage-provider); the task role may read and write its objects. */
  readonly mediaBucket: s3.IBucket;
  /** @default - no auto-join (HomeserverConfigInput.autoJoin) */
  readonly autoJoin?: HomeserverConfigInput['autoJoin'];
  /** @default 'synapse' */
  readonly databaseName?: string;
  /**
   * The worker layout the main process's config is rendered for (instance_map, replication listener, Redis);
   * the worker fleet then adds the Redis host and secrets to the container.
   * @default - one process: renderHomeserverYaml's config, byte for byte
   */
  readonly workerLayout?: SynapseWorkerLayout;
}

export { logicalIdOf, SYNAPSE_EDGE_CONTAINER, SYNAPSE_HEALTH_CHECK } from './synapse-task';

/**
 * The Synapse homeserver on Fargate: the wrapper image (docker/synapse), the
 * rendered homeserver.yaml in SYNAPSE_CONFIG_YAML, secrets through ECS
 * `secrets`, the seed's Synapse SG, a target group on /health and a private DNS
 * name for callers inside the VPC (the bootstrap and purge Lambdas).
 */
export class SynapseService extends Construct {
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** http://homeserver.synapse.<prefix>.internal:8008, reachable from the VPC through the Synapse SG. */
  public readonly internalUrl: string;
  /** What the homeserver.yaml is rendered from; the workers' configs are rendered from the same. */
  public readonly homeserverInput: HomeserverConfigInput;
  /** The homeserver.yaml passed to the container (placeholders only, no secrets). */
  public readonly homeserverYaml: string;
  /** Publishes the A/B send latency and errors from Synapse's metrics (issue #18). */
  public readonly metricsSidecar: SynapseMetricsSidecar;
  /** The service with its log group and Cloud Map namespace, which the workers register in too. */
  public readonly fargate: ChatFargateService;

  constructor(scope: Construct, id: string, props: SynapseServiceProps) {
    super(scope, id);
    const { secrets, prefix, taskSize, securityGroup } = props;
    const region = Stack.of(this).region;

    this.homeserverInput = {
      serverName: props.serverName,
      publicBaseUrl: `https://${props.domainName}`,
      awsRegion: region,
      historyRetentionDays: props.historyRetentionDays,
      databaseName: props.databaseName,
      autoJoin: props.autoJoin,
      adminUiPath: ADMIN_UI_BASE_PATH,
    };
    this.homeserverYaml = renderMainProcessYaml(this.homeserverInput, props.workerLayout);

    const namespaceName = `synapse.${prefix}.internal`;
    const wiring: SynapseProcessWiring = {
      database: props.database,
      userPool: props.userPool,
      secrets,
      clientsSecret: props.clientsSecret,
      mediaBucket: props.mediaBucket,
      edgeProvider: props.edgeProvider,
      region,
    };
    const fargate = new ChatFargateService(this, CHAT_FARGATE_SERVICE_ID, {
      // images.architecture: matrixdotorg/synapse is published for linux/amd64 and linux/arm64; the S3 provider is pure Python.
      ...fargateCommonProps(props),
      serviceName: `${prefix}-synapse`,
      securityGroup,
      taskSize,
      containers: synapseContainers(wiring, { configYaml: this.homeserverYaml }),
      target: SYNAPSE_TARGET,
      // One main process: two Synapse main processes must never write the same database, so a
      // deploy stops the old task before starting the new one (a short outage, never a split brain).
      deploymentBounds: { minHealthyPercent: 0, maxHealthyPercent: 100 },
      // The first start runs Synapse's schema migrations before /health answers.
      healthCheckGracePeriod: Duration.seconds(180),
      discovery: { namespaceName, description: 'Private DNS for Synapse (bootstrap and history-purge Lambdas)', name: SYNAPSE_MAIN_DISCOVERY_NAME },
      plainEnvironmentReason: SYNAPSE_PLAIN_ENVIRONMENT_REASON,
    });
    this.fargate = fargate;
    this.taskDefinition = fargate.taskDefinition;
    this.metricsSidecar = new SynapseMetricsSidecar(this, 'MetricsSidecar', {
      taskDefinition: fargate.taskDefinition,
      synapseContainer: fargate.containers.Synapse!,
      prefix,
      architecture: props.architecture,
      logRetention: props.logRetention,
      retainLogs: props.retainLogs,
    });
    finishSynapseTask(fargate, props.mediaBucket);
    this.service = fargate.service;
    this.targetGroup = fargate.targetGroup;
    this.internalUrl = fargate.internalUrl!;
  }

  /** Lets `peer` reach Synapse directly on 8008 (inside the VPC, bypassing the ALB's admin-path restriction). */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.service.connections.allowFrom(peer, ec2.Port.tcp(SYNAPSE_LISTENER_PORT), description);
  }
}
