import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct, IConstruct } from 'constructs';
import { CHAT_CLIENT_SECRET_KEYS } from '../chat-shared/secret-keys';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { acknowledgeNag } from '../nag';
import { ADMIN_UI_BASE_PATH } from './admin-ui-service';
import { HOMESERVER_PLAIN_ENV, HOMESERVER_SECRET_ENV, HomeserverConfigInput, renderHomeserverYaml, SYNAPSE_CONFIG_YAML_ENV, SYNAPSE_INTERNAL_PORT, SYNAPSE_LISTENER_PORT } from './homeserver-config';
import { SynapseMetricsSidecar } from './metrics-sidecar';
import { SynapseSecrets } from './secrets';
import { SYNAPSE_MAIN_DISCOVERY_NAME } from './workers';

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
}

/** The logical id of a resource's CloudFormation resource, as cdk-nag names it in finding ids. */
export function logicalIdOf(construct: IConstruct): string {
  const cfn = construct.node.defaultChild as CfnElement;
  return Stack.of(construct).resolve(Stack.of(construct).getLogicalId(cfn)) as string;
}

/** The task's way in (docker/synapse-edge): the ALB target and the Cloud Map name point at it. */
export const SYNAPSE_EDGE_CONTAINER = 'synapse-edge';

/** Seed 000 "Health checks": Synapse /health every 30 s, 5 s timeout, 3 retries, 60 s start period. */
export const SYNAPSE_HEALTH_CHECK = { path: '/health', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 60 } as const;

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
  /** The homeserver.yaml passed to the container (placeholders only, no secrets). */
  public readonly homeserverYaml: string;
  /** Publishes the A/B send latency and errors from Synapse's metrics (issue #18). */
  public readonly metricsSidecar: SynapseMetricsSidecar;

  constructor(scope: Construct, id: string, props: SynapseServiceProps) {
    super(scope, id);
    const { secrets, prefix, taskSize, securityGroup } = props;
    const region = Stack.of(this).region;

    this.homeserverYaml = renderHomeserverYaml({
      serverName: props.serverName,
      publicBaseUrl: `https://${props.domainName}`,
      awsRegion: region,
      historyRetentionDays: props.historyRetentionDays,
      databaseName: props.databaseName,
      autoJoin: props.autoJoin,
      adminUiPath: ADMIN_UI_BASE_PATH,
    });

    const s = HOMESERVER_SECRET_ENV;
    const p = HOMESERVER_PLAIN_ENV;
    const namespaceName = `synapse.${prefix}.internal`;
    const fargate = new ChatFargateService(this, CHAT_FARGATE_SERVICE_ID, {
      // images.architecture: matrixdotorg/synapse is published for linux/amd64 and linux/arm64; the S3 provider is pure Python.
      ...fargateCommonProps(props),
      serviceName: `${prefix}-synapse`,
      securityGroup,
      taskSize,
      containers: [
        {
          id: 'Synapse',
          // Built from docker/synapse at deploy time (synth only stages the two small files there).
          image: { directory: 'synapse' },
          streamPrefix: 'synapse',
          healthCheck: { ...SYNAPSE_HEALTH_CHECK, command: `curl -fSs http://127.0.0.1:${SYNAPSE_INTERNAL_PORT}${SYNAPSE_HEALTH_CHECK.path} || exit 1` },
          options: {
            containerName: 'synapse',
            // No port mapping: Synapse listens on the task's loopback only; the edge container is the way in.
            environment: {
              [SYNAPSE_CONFIG_YAML_ENV]: this.homeserverYaml,
              [p.databaseHost]: props.database.dbInstanceEndpointAddress,
              [p.databasePort]: props.database.dbInstanceEndpointPort,
              [p.mediaBucket]: props.mediaBucket.bucketName,
              [p.oidcIssuer]: `https://cognito-idp.${region}.amazonaws.com/${props.userPool.userPoolId}`,
            },
            secrets: {
              [s.registrationSharedSecret]: ecs.Secret.fromSecretsManager(secrets.registrationSharedSecret),
              [s.macaroonSecretKey]: ecs.Secret.fromSecretsManager(secrets.macaroonSecretKey),
              [s.formSecret]: ecs.Secret.fromSecretsManager(secrets.formSecret),
              // Exactly one of the two: the entrypoint refuses a container that has both.
              [secrets.signingKey.kind === 'key' ? s.signingKey : s.signingKeySeed]: ecs.Secret.fromSecretsManager(secrets.signingKey.secret),
              [s.databaseUser]: ecs.Secret.fromSecretsManager(secrets.database, 'username'),
              [s.databasePassword]: ecs.Secret.fromSecretsManager(secrets.database, 'password'),
              [s.oidcClientId]: ecs.Secret.fromSecretsManager(props.clientsSecret, CHAT_CLIENT_SECRET_KEYS.synapseOidcClientId),
              [s.oidcClientSecret]: ecs.Secret.fromSecretsManager(props.clientsSecret, CHAT_CLIENT_SECRET_KEYS.synapseOidcClientSecret),
            },
          },
        },
        {
          // The edge proxy (docker/synapse-edge): the task's port 8008 for the ALB and the in-VPC callers. It
          // hands Synapse one client address, the one the ALB saw (or Cloudflare's CF-Connecting-IP when the
          // ALB saw Cloudflare), because Synapse believes the leftmost X-Forwarded-For entry, which the client writes.
          id: 'Edge',
          image: { directory: 'synapse-edge' },
          streamPrefix: 'synapse-edge',
          healthCheck: {
            command: `wget -q -O /dev/null http://127.0.0.1:${SYNAPSE_LISTENER_PORT}/synapse-edge/health || exit 1`,
            intervalSeconds: 30,
            timeoutSeconds: 5,
            retries: 3,
            startPeriodSeconds: 10,
          },
          options: {
            containerName: SYNAPSE_EDGE_CONTAINER,
            portMappings: [{ containerPort: SYNAPSE_LISTENER_PORT, name: 'synapse' }],
            environment: { SYNAPSE_EDGE_PROVIDER: props.edgeProvider },
            // nginx needs a few MiB; the reservation keeps Synapse's share of the task's memory.
            memoryReservationMiB: 32,
          },
        },
      ],
      target: { containerName: SYNAPSE_EDGE_CONTAINER, port: SYNAPSE_LISTENER_PORT, healthCheck: SYNAPSE_HEALTH_CHECK },
      // One main process: two Synapse main processes must never write the same database, so a
      // deploy stops the old task before starting the new one (a short outage, never a split brain).
      deploymentBounds: { minHealthyPercent: 0, maxHealthyPercent: 100 },
      // The first start runs Synapse's schema migrations before /health answers.
      healthCheckGracePeriod: Duration.seconds(180),
      discovery: { namespaceName, description: 'Private DNS for Synapse (bootstrap and history-purge Lambdas)', name: SYNAPSE_MAIN_DISCOVERY_NAME },
      plainEnvironmentReason:
        'The plain environment holds only non-secret values: the homeserver.yaml with ${NAME} placeholders instead of secrets, the DB host/port, the bucket name and the OIDC issuer. Every secret comes through ECS secrets.',
    });
    // Started after Synapse and stopped before it, so a draining task stops taking requests first.
    fargate.containers.Edge!.addContainerDependencies({ container: fargate.containers.Synapse!, condition: ecs.ContainerDependencyCondition.START });
    this.taskDefinition = fargate.taskDefinition;
    this.metricsSidecar = new SynapseMetricsSidecar(this, 'MetricsSidecar', {
      taskDefinition: fargate.taskDefinition,
      synapseContainer: fargate.containers.Synapse!,
      prefix,
      architecture: props.architecture,
      logRetention: props.logRetention,
      retainLogs: props.retainLogs,
    });
    this.service = fargate.service;
    this.targetGroup = fargate.targetGroup;
    this.internalUrl = fargate.internalUrl!;

    // Exactly what synapse-s3-storage-provider calls (boto3 upload_file/download_fileobj, delete on purge).
    this.taskDefinition.addToTaskRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [props.mediaBucket.arnForObjects('*')],
      }),
    );
    this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.mediaBucket.bucketArn] }));

    acknowledgeNag(
      this.taskDefinition,
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.mediaBucket)}.Arn>/*]`,
        reason: 'Synapse stores every media file as its own object in this bucket (and only this bucket), so the task role needs the objects of the bucket.',
      },
      {
        id: 'CloudFormation-Validate::E1029',
        reason:
          "The ${NAME} strings in SYNAPSE_CONFIG_YAML are placeholders for the image's entrypoint (docker/synapse/render-config.py), not CloudFormation parameters; CloudFormation leaves a plain string untouched.",
      },
    );
  }

  /** Lets `peer` reach Synapse directly on 8008 (inside the VPC, bypassing the ALB's admin-path restriction). */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.service.connections.allowFrom(peer, ec2.Port.tcp(SYNAPSE_LISTENER_PORT), description);
  }
}
