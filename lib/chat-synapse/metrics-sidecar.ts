import { Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allowPutAbMetrics } from '../ab-evaluation/put-metrics';
import { dockerAssetImage, ImageArchitecture } from '../constructs/container-image';
import { keepOnceCreated } from '../removal-policy';
import { SYNAPSE_METRICS_PATH, SYNAPSE_METRICS_PORT } from './homeserver-config';

export interface SynapseMetricsSidecarProps {
  /** Synapse's task definition: the sidecar reaches the metrics listener on the task's loopback. */
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** Synapse's container: the sidecar starts after it, so ECS stops it first (its last cycle sees Synapse up). */
  readonly synapseContainer: ecs.ContainerDefinition;
  /** The stack prefix: the log group's name and the A/B metrics' Environment dimension. */
  readonly prefix: string;
  readonly architecture: ImageArchitecture;
  readonly logRetention: logs.RetentionDays;
  /** @default false - the log group is deleted with the stack */
  readonly retainLogs?: boolean;
}

/** The container's name in Synapse's task. */
export const SYNAPSE_METRICS_CONTAINER = 'synapse-metrics';
/** How often the sidecar scrapes and publishes; 60 s is CloudWatch's standard resolution. */
export const SYNAPSE_METRICS_INTERVAL_SECONDS = 60;

/**
 * Issue #18, the Matrix side of send latency and error rate: docker/synapse-metrics in Synapse's task,
 * scraping Synapse's loopback metrics listener into Phenom/AB (PutMetricData, namespace-scoped). Not
 * essential: when it fails, Synapse's task keeps serving and only the A/B figures have a gap.
 */
export class SynapseMetricsSidecar extends Construct {
  public readonly container: ecs.ContainerDefinition;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SynapseMetricsSidecarProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/ecs/${props.prefix}-synapse-metrics`,
      retention: props.logRetention,
      removalPolicy: keepOnceCreated({ production: props.retainLogs ?? false }),
    });
    this.container = props.taskDefinition.addContainer('Metrics', {
      containerName: SYNAPSE_METRICS_CONTAINER,
      image: dockerAssetImage(props.architecture, 'synapse-metrics'),
      essential: false,
      // Node with the CloudWatch client idles near 50 MiB; the limit keeps a leak from taking Synapse's memory.
      cpu: 64,
      memoryReservationMiB: 64,
      memoryLimitMiB: 160,
      // A cycle takes at most 15 s (5 s scrape, 10 s publish), and SIGTERM runs one more.
      stopTimeout: Duration.seconds(35),
      // No port mapping: it only connects out, to the loopback listener and to CloudWatch.
      environment: {
        SYNAPSE_METRICS_URL: `http://127.0.0.1:${SYNAPSE_METRICS_PORT}${SYNAPSE_METRICS_PATH}`,
        AB_ENVIRONMENT: props.prefix,
        SCRAPE_INTERVAL_SECONDS: String(SYNAPSE_METRICS_INTERVAL_SECONDS),
        AWS_REGION: Stack.of(this).region,
      },
      healthCheck: {
        command: ['CMD-SHELL', 'node src/health.mjs || exit 1'],
        interval: Duration.seconds(SYNAPSE_METRICS_INTERVAL_SECONDS),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(120),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'synapse-metrics' }),
    });
    this.container.addContainerDependencies({ container: props.synapseContainer, condition: ecs.ContainerDependencyCondition.START });
    allowPutAbMetrics(props.taskDefinition.taskRole);
  }
}
