import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { scaleService } from '../operations/scaling';
import { SCALING_TARGETS } from '../operations/thresholds';
import { POSTGRES_PORT } from '../platform/security-groups';
import { SYNAPSE_LISTENER_PORT } from './homeserver-config';
import { finishSynapseTask, SYNAPSE_PLAIN_ENVIRONMENT_REASON, SYNAPSE_TARGET, synapseContainers, SynapseProcessRole, SynapseProcessWiring } from './synapse-task';

/**
 * How long a stopping worker has between SIGTERM and SIGKILL. The ALB has already drained it for 30 s
 * (the target group's deregistration delay, which outlasts a 30 s /sync long-poll); Synapse then
 * finishes its in-flight requests and replication writes. 60 s is half Fargate's 120 s ceiling.
 */
export const SYNAPSE_WORKER_STOP_TIMEOUT = Duration.seconds(60);

export interface SynapseWorkerServiceProps extends ChatServiceCommonProps, SynapseProcessWiring {
  /** The worker kind, e.g. generic or media. */
  readonly kind: string;
  /** The worker's name: its service (`<prefix>-synapse-<name>`) and its Cloud Map name (`<name>.<namespace>`). */
  readonly workerName: string;
  readonly taskSize: TaskSize;
  /** The worker's own config, its extra environment (Redis) and secrets (the Redis AUTH token). */
  readonly role: SynapseProcessRole;
  /** The main process's private DNS namespace: workers register beside it, so `instance_map` hosts resolve. */
  readonly namespace: servicediscovery.IPrivateDnsNamespace;
  /** The ALB: the only way in on 8008. */
  readonly loadBalancer: ec2.IConnectable;
  /**
   * Tasks: fixed when `minCount` equals `maxCount`, else scaled on CPU between them.
   */
  readonly count: { readonly minCount: number; readonly maxCount: number };
  /**
   * Never two tasks of this worker at once (a stream writer or a federation sender shard owns its name):
   * a deploy stops the old task before it starts the new one.
   * @default false - a deploy starts the new task before it stops the old one
   */
  readonly exclusive?: boolean;
}

/**
 * One kind of Synapse worker on Fargate: the same image, edge proxy and secrets as the main process
 * (synapse-task.ts) with the worker's config, its own SG (8008 from the ALB only; out to RDS, 443,
 * and whatever `connections` rules the caller adds for Redis and replication), a target group on
 * /health, a 60 s stop timeout and a Cloud Map name in the main process's namespace.
 */
export class SynapseWorkerService extends Construct {
  public readonly service: ecs.FargateService;
  /** The ALB's target, for a worker that serves clients. */
  public readonly targetGroup?: elbv2.ApplicationTargetGroup;
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The worker kind (workers/layout.ts). */
  public readonly kind: string;

  constructor(scope: Construct, id: string, props: SynapseWorkerServiceProps) {
    const { minCount, maxCount } = props.count;
    if (!Number.isInteger(minCount) || minCount < 1 || maxCount < minCount) throw new Error(`${id}: count needs 1 ≤ minCount ≤ maxCount, got ${minCount}–${maxCount}`);
    if (props.exclusive && maxCount > 1) throw new Error(`${id}: an exclusive worker runs one task; got maxCount ${maxCount}`);
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(props.workerName)) throw new Error(`${id}: workerName must be a lower-case DNS label (a-z, 0-9, -), got "${props.workerName}"`);
    super(scope, id);
    const name = `${props.prefix}-synapse-${props.workerName}`;
    const serves = props.role.servesClients ?? true;

    const fargate = new ChatFargateService(this, CHAT_FARGATE_SERVICE_ID, {
      ...fargateCommonProps(props),
      serviceName: name,
      securityGroup: {
        securityGroupName: name,
        description: `Synapse worker ${props.workerName}`,
        ingress: (serves ? props.loadBalancer.connections.securityGroups : []).map((alb) => ({
          peer: alb,
          port: ec2.Port.tcp(SYNAPSE_LISTENER_PORT),
          description: 'Matrix client traffic (worker routes) from the ALB',
        })),
        egress: [
          ...props.database.connections.securityGroups.map((db) => ({ peer: db, port: ec2.Port.tcp(POSTGRES_PORT), description: 'Synapse database on RDS' })),
          { peer: ec2.Peer.anyIpv4(), port: ec2.Port.tcp(443), description: 'Cognito OIDC, federation, S3, Secrets Manager, CloudWatch' },
        ],
      },
      taskSize: props.taskSize,
      containers: synapseContainers(props, { stopTimeout: SYNAPSE_WORKER_STOP_TIMEOUT, ...props.role }),
      target: serves ? SYNAPSE_TARGET : undefined,
      desiredCount: minCount,
      deploymentBounds: props.exclusive ? { minHealthyPercent: 0, maxHealthyPercent: 100 } : undefined,
      // A worker runs no schema migrations (the main process does), but it waits for replication to connect.
      healthCheckGracePeriod: serves ? Duration.seconds(120) : undefined,
      discovery: { namespace: props.namespace, name: props.workerName },
      plainEnvironmentReason: SYNAPSE_PLAIN_ENVIRONMENT_REASON,
    });
    finishSynapseTask(fargate, props.mediaBucket);
    // The egress half is the SG's own rule above; this adds the RDS SG's ingress.
    props.database.connections.allowFrom(fargate.securityGroup, ec2.Port.tcp(POSTGRES_PORT), `PostgreSQL from Synapse worker ${props.workerName}`);

    this.service = fargate.service;
    this.targetGroup = serves ? fargate.targetGroup : undefined;
    this.securityGroup = fargate.securityGroup;
    this.kind = props.kind;

    if (maxCount > minCount) scaleService(this.service, { minCapacity: minCount, maxCapacity: maxCount, cpu: SCALING_TARGETS.synapseWorkerCpu });
  }
}
