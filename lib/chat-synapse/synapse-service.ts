import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct, IConstruct } from 'constructs';
import { CHAT_CLIENT_SECRET_KEYS } from '../chat-shared/secret-keys';
import { ChatConfig } from '../config';
import { dockerAssetImage, fargateRuntimePlatform } from '../constructs/container-image';
import { acknowledgeNag } from '../nag';
import { Platform } from '../platform';
import { ADMIN_UI_BASE_PATH } from './admin-ui-service';
import {
  HOMESERVER_PLAIN_ENV,
  HOMESERVER_SECRET_ENV,
  HomeserverConfigInput,
  renderHomeserverYaml,
  SYNAPSE_CONFIG_YAML_ENV,
  SYNAPSE_INTERNAL_PORT,
  SYNAPSE_LISTENER_PORT,
} from './homeserver-config';
import { SynapseSecrets } from './secrets';
import { keepOnceCreated } from '../removal-policy';

export interface SynapseServiceProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
  readonly secrets: SynapseSecrets;
  /** The chat-clients secret (contract C4): the Synapse OIDC client id and secret. */
  readonly clientsSecret: secretsmanager.ISecret;
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

  constructor(scope: Construct, id: string, props: SynapseServiceProps) {
    super(scope, id);
    const { config, platform, secrets } = props;
    const db = platform.database;

    this.homeserverYaml = renderHomeserverYaml({
      serverName: config.matrixServerName,
      publicBaseUrl: `https://${config.domainName}`,
      awsRegion: config.region,
      historyRetentionDays: config.synapse.historyRetentionDays,
      databaseName: props.databaseName,
      autoJoin: props.autoJoin,
      adminUiPath: ADMIN_UI_BASE_PATH,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `${config.prefix}-synapse`,
      cpu: config.services.synapse.cpu,
      memoryLimitMiB: config.services.synapse.memoryMiB,
      // images.architecture: matrixdotorg/synapse is published for linux/amd64 and linux/arm64; the S3 provider is pure Python.
      runtimePlatform: fargateRuntimePlatform(config),
    });
    // Exactly what synapse-s3-storage-provider calls (boto3 upload_file/download_fileobj, delete on purge).
    this.taskDefinition.addToTaskRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [props.mediaBucket.arnForObjects('*')],
      }),
    );
    this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.mediaBucket.bucketArn] }));

    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/ecs/${config.prefix}-synapse`,
      retention: config.monitoring.logRetentionDays as logs.RetentionDays,
      removalPolicy: keepOnceCreated(config),
    });

    const s = HOMESERVER_SECRET_ENV;
    const p = HOMESERVER_PLAIN_ENV;
    const synapse = this.taskDefinition.addContainer('Synapse', {
      containerName: 'synapse',
      // Built from docker/synapse at deploy time (synth only stages the two small files there).
      image: dockerAssetImage(config, 'synapse'),
      // No port mapping: Synapse listens on the task's loopback only; the edge container is the way in.
      environment: {
        [SYNAPSE_CONFIG_YAML_ENV]: this.homeserverYaml,
        [p.databaseHost]: db.instance.dbInstanceEndpointAddress,
        [p.databasePort]: db.instance.dbInstanceEndpointPort,
        [p.mediaBucket]: props.mediaBucket.bucketName,
        [p.oidcIssuer]: `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${platform.userPool.userPool.userPoolId}`,
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
      healthCheck: {
        command: ['CMD-SHELL', `curl -fSs http://127.0.0.1:${SYNAPSE_INTERNAL_PORT}${SYNAPSE_HEALTH_CHECK.path} || exit 1`],
        interval: Duration.seconds(SYNAPSE_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(SYNAPSE_HEALTH_CHECK.timeoutSeconds),
        retries: SYNAPSE_HEALTH_CHECK.retries,
        startPeriod: Duration.seconds(SYNAPSE_HEALTH_CHECK.startPeriodSeconds),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'synapse' }),
    });

    // The edge proxy (docker/synapse-edge): the task's port 8008 for the ALB and the in-VPC callers. It
    // hands Synapse one client address, the one the ALB saw (or Cloudflare's CF-Connecting-IP when the
    // ALB saw Cloudflare), because Synapse believes the leftmost X-Forwarded-For entry, which the client writes.
    const edge = this.taskDefinition.addContainer('Edge', {
      containerName: SYNAPSE_EDGE_CONTAINER,
      image: dockerAssetImage(config, 'synapse-edge'),
      portMappings: [{ containerPort: SYNAPSE_LISTENER_PORT, name: 'synapse' }],
      environment: { SYNAPSE_EDGE_PROVIDER: config.edge.provider },
      // nginx needs a few MiB; the reservation keeps Synapse's share of the task's memory.
      memoryReservationMiB: 32,
      healthCheck: {
        command: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${SYNAPSE_LISTENER_PORT}/synapse-edge/health || exit 1`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(10),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'synapse-edge' }),
    });
    // Started after Synapse and stopped before it, so a draining task stops taking requests first.
    edge.addContainerDependencies({ container: synapse, condition: ecs.ContainerDependencyCondition.START });

    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: `synapse.${config.prefix}.internal`,
      vpc: platform.vpc,
      description: 'Private DNS for Synapse (bootstrap and history-purge Lambdas)',
    });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: `${config.prefix}-synapse`,
      cluster: platform.cluster,
      taskDefinition: this.taskDefinition,
      // One main process: two Synapse main processes must never write the same database, so a
      // deploy stops the old task before starting the new one (a short outage, never a split brain).
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      vpcSubnets: platform.privateSubnets,
      securityGroups: [platform.securityGroups.synapse],
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      // The first start runs Synapse's schema migrations before /health answers.
      healthCheckGracePeriod: Duration.seconds(180),
      cloudMapOptions: { cloudMapNamespace: namespace, name: 'homeserver', dnsRecordType: servicediscovery.DnsRecordType.A, dnsTtl: Duration.seconds(10) },
    });
    this.internalUrl = `http://homeserver.${namespace.namespaceName}:${SYNAPSE_LISTENER_PORT}`;

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: platform.vpc,
      port: SYNAPSE_LISTENER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: SYNAPSE_HEALTH_CHECK.path,
        healthyHttpCodes: '200',
        interval: Duration.seconds(SYNAPSE_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(SYNAPSE_HEALTH_CHECK.timeoutSeconds),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: SYNAPSE_HEALTH_CHECK.retries,
      },
    });
    this.targetGroup.addTarget(this.service.loadBalancerTarget({ containerName: SYNAPSE_EDGE_CONTAINER, containerPort: SYNAPSE_LISTENER_PORT }));

    acknowledgeNag(
      this.taskDefinition,
      {
        id: 'AwsSolutions-ECS2',
        reason:
          'The plain environment holds only non-secret values: the homeserver.yaml with ${NAME} placeholders instead of secrets, the DB host/port, the bucket name and the OIDC issuer. Every secret comes through ECS secrets.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.mediaBucket)}.Arn>/*]`,
        reason: 'Synapse stores every media file as its own object in this bucket (and only this bucket), so the task role needs the objects of the bucket.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The execution role pulls the image from the CDK asset repository: ecr:GetAuthorizationToken has no resource-level permissions.',
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
