import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { dockerAssetImage, fargateRuntimePlatform } from '../constructs/container-image';
import { acknowledgeNag } from '../nag';
import { Platform, SYNAPSE_ADMIN_PORT } from '../platform';
import { keepOnceCreated } from '../removal-policy';

export interface SynapseAdminUiProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
}

/** Seed 000 "Health checks": Admin UI / every 30 s, 5 s timeout, 3 retries, 30 s start period. */
export const ADMIN_UI_HEALTH_CHECK = { path: '/', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 30 } as const;

/** The public path of the Admin UI (the wrapper image serves the app under it; see docker/synapse-admin/Dockerfile). */
export const ADMIN_UI_BASE_PATH = '/chat-admin';

/**
 * Synapse Admin at https://<domain>/chat-admin/ on Fargate, in the seed's ECS
 * tasks SG. It is a static app: the browser talks to Synapse's admin API
 * directly, so its reach is governed by the ALB's /_synapse/admin/* restriction.
 */
export class SynapseAdminUi extends Construct {
  public readonly service: ecs.FargateService;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: SynapseAdminUiProps) {
    super(scope, id);
    const { config, platform } = props;

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `${config.prefix}-synapse-admin`,
      cpu: config.services.synapseAdmin.cpu,
      memoryLimitMiB: config.services.synapseAdmin.memoryMiB,
      // images.architecture: the synapse-admin image (nginx:alpine) is published for linux/amd64 and linux/arm64.
      runtimePlatform: fargateRuntimePlatform(config),
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/ecs/${config.prefix}-synapse-admin`,
      retention: config.monitoring.logRetentionDays as logs.RetentionDays,
      removalPolicy: keepOnceCreated(config),
    });
    taskDefinition.addContainer('AdminUi', {
      containerName: 'synapse-admin',
      image: dockerAssetImage(config, 'synapse-admin'),
      portMappings: [{ containerPort: SYNAPSE_ADMIN_PORT, name: 'http' }],
      environment: { SYNAPSE_ADMIN_HOMESERVER_URL: `https://${config.domainName}` },
      healthCheck: {
        command: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${SYNAPSE_ADMIN_PORT}${ADMIN_UI_HEALTH_CHECK.path} || exit 1`],
        interval: Duration.seconds(ADMIN_UI_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(ADMIN_UI_HEALTH_CHECK.timeoutSeconds),
        retries: ADMIN_UI_HEALTH_CHECK.retries,
        startPeriod: Duration.seconds(ADMIN_UI_HEALTH_CHECK.startPeriodSeconds),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'synapse-admin' }),
    });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: `${config.prefix}-synapse-admin`,
      cluster: platform.cluster,
      taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      vpcSubnets: platform.privateSubnets,
      securityGroups: [platform.securityGroups.ecsTasks],
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: platform.vpc,
      port: SYNAPSE_ADMIN_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(10),
      healthCheck: {
        path: ADMIN_UI_HEALTH_CHECK.path,
        healthyHttpCodes: '200',
        interval: Duration.seconds(ADMIN_UI_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(ADMIN_UI_HEALTH_CHECK.timeoutSeconds),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: ADMIN_UI_HEALTH_CHECK.retries,
      },
    });
    this.service.attachToApplicationTargetGroup(this.targetGroup);

    acknowledgeNag(
      taskDefinition,
      {
        id: 'AwsSolutions-ECS2',
        reason: 'The only variable is the public homeserver URL the UI is pinned to; the app holds no secret (admins sign in through Synapse).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The execution role pulls the image from the CDK asset repository: ecr:GetAuthorizationToken has no resource-level permissions.',
      },
    );
  }
}
