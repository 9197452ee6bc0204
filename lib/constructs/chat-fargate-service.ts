import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';
import { keepOnceCreated } from '../removal-policy';
import { DockerAssetImageOptions, dockerAssetImage, fargateRuntimePlatform, ImageArchitecture } from './container-image';

/**
 * The id a service construct gives its ChatFargateService. CDK leaves a path component named
 * "Default" out of logical ids, so the task definition, service, target group and rules keep the
 * logical ids they had when each service built them itself (a changed id would replace them on deploy).
 */
export const CHAT_FARGATE_SERVICE_ID = 'Default';

/** The size of one Fargate task (a valid Fargate CPU/memory pair). */
export interface TaskSize {
  /** CPU units (1024 = 1 vCPU). */
  readonly cpu: number;
  /** Memory hard limit of the task, in MiB. */
  readonly memoryMiB: number;
}

/** How often and how patiently a health check probes. */
export interface HealthCheckTiming {
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** Failures in a row that make the target (or container) unhealthy. */
  readonly retries: number;
  /** Seconds after start during which a failing container health check does not count. */
  readonly startPeriodSeconds: number;
}

/** An HTTP health check: the path and its timing (seed 000 "Health checks" gives each service's). */
export interface HttpHealthCheck extends HealthCheckTiming {
  readonly path: string;
}

/** One container of the task. Its image is built from `docker/<directory>` for the task's architecture. */
export interface ChatContainerProps {
  /** The construct id of the container definition. */
  readonly id: string;
  /** The image's build context under docker/, plus excludes and build args. */
  readonly image: { readonly directory: string } & DockerAssetImageOptions;
  /** The log stream prefix in the service's log group. */
  readonly streamPrefix: string;
  /** The container health check: a shell command that exits non-zero when unhealthy, and its timing. */
  readonly healthCheck: { readonly command: string } & HealthCheckTiming;
  /** Everything else about the container (name, ports, environment, secrets, user, stop timeout). */
  readonly options: Omit<ecs.ContainerDefinitionOptions, 'image' | 'logging' | 'healthCheck'>;
}

/** Listener rules that forward to the service's target group. */
export interface ChatServiceRoutes {
  /** The HTTPS listener of the shared ALB. */
  readonly listener: elbv2.IApplicationListener;
  /** Every rule also matches this host header. */
  readonly hostHeader: string;
  /** The rules: construct id, priority (contract C5 blocks) and path patterns. */
  readonly rules: ReadonlyArray<{ readonly id: string; readonly priority: number; readonly paths: string[] }>;
}

/** A private DNS name for callers inside the VPC (Lambdas, the MCP server), in a namespace made here or another service's. */
export type ChatServiceDiscovery =
  | {
      /** The private namespace made here, e.g. synapse.<prefix>.internal. */
      readonly namespaceName: string;
      readonly description: string;
      /** The service's name in the namespace (an A record per task). */
      readonly name: string;
    }
  | {
      /** An existing namespace (Synapse's workers register beside the main process). */
      readonly namespace: servicediscovery.IPrivateDnsNamespace;
      readonly name: string;
    };

/** One rule of a security group the service makes for itself. */
export interface SecurityGroupRule {
  readonly peer: ec2.IPeer;
  readonly port: ec2.Port;
  /** Who connects and why. */
  readonly description: string;
}

/** A security group of the service's own: no outbound traffic but the rules listed. */
export interface OwnSecurityGroupProps {
  readonly securityGroupName: string;
  readonly description: string;
  readonly ingress: readonly SecurityGroupRule[];
  readonly egress: readonly SecurityGroupRule[];
}

export interface ChatFargateServiceProps extends Omit<ChatServiceCommonProps, 'prefix'> {
  /** The ECS service name and task definition family; also the log group's name, under /ecs/. */
  readonly serviceName: string;
  /**
   * The tasks' security group: a shared one (the seed's Synapse or ECS tasks SG), or the rules of one
   * made here. Its rules are in place before any listener rule adds the ALB's "Load balancer to target" rule.
   */
  readonly securityGroup: ec2.ISecurityGroup | OwnSecurityGroupProps;
  readonly taskSize: TaskSize;
  /**
   * Whether the log group is named /ecs/<serviceName>.
   * @default true - a fixed name the runbook's queries can use; false lets CloudFormation name it
   */
  readonly namedLogGroup?: boolean;
  /** The containers, in task order; all of them log to the service's log group. */
  readonly containers: readonly ChatContainerProps[];
  /**
   * The container and port the ALB sends traffic to, and the target group's health check.
   * @default - no target group: a service no request reaches (a Synapse federation sender), health from its container check only
   */
  readonly target?: {
    readonly containerName: string;
    readonly port: number;
    readonly healthCheck: HttpHealthCheck;
    /**
     * How long a deregistering target keeps its open requests.
     * @default 30 seconds
     */
    readonly deregistrationDelay?: Duration;
  };
  /** How long ECS ignores failing ALB health checks of a new task (its slowest start). */
  readonly healthCheckGracePeriod?: Duration;
  /**
   * Tasks to run.
   * @default 1
   */
  readonly desiredCount?: number;
  /**
   * The deployment's lower and upper bounds, in percent of desiredCount.
   * @default - 100 and 200: a deploy starts the new task before it stops the old one
   */
  readonly deploymentBounds?: { readonly minHealthyPercent: number; readonly maxHealthyPercent: number };
  /**
   * A private DNS name for the service.
   * @default - none; the service is reached only through the ALB
   */
  readonly discovery?: ChatServiceDiscovery;
  /**
   * Listener rules forwarding to the target group, made here.
   * @default - none; the caller routes to `targetGroup` (and makes the service depend on a rule)
   */
  readonly routes?: ChatServiceRoutes;
  /**
   * Which tags the tasks get.
   * @default - tasks are not tagged
   */
  readonly propagateTags?: ecs.PropagatedTagSource;
  /** Why the task's plain environment holds no secret (cdk-nag AwsSolutions-ECS2, acknowledged here). */
  readonly plainEnvironmentReason: string;
}

/**
 * One chat service on Fargate behind the shared ALB, with the app's defaults in one place: tasks in
 * private subnets with no public IP, a deployment circuit breaker that rolls back, logs in one
 * group with a set retention, container and ALB health checks from the same numbers, and images
 * built for the architecture the task runs on. Each service construct keeps only what differs.
 */
export class ChatFargateService extends Construct {
  public readonly securityGroup: ec2.ISecurityGroup;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly logGroup: logs.LogGroup;
  /** The containers by construct id. */
  public readonly containers: Readonly<Record<string, ecs.ContainerDefinition>>;
  public readonly service: ecs.FargateService;
  private readonly ownTargetGroup?: elbv2.ApplicationTargetGroup;
  /** The rules made from `routes`, in their order. */
  public readonly rules: readonly elbv2.ApplicationListenerRule[] = [];
  /** http://<name>.<namespace>:<port>, when `discovery` is set. */
  public readonly internalUrl?: string;
  /** The namespace the service registers in, when `discovery` is set. */
  public readonly namespace?: servicediscovery.IPrivateDnsNamespace;

  constructor(scope: Construct, id: string, props: ChatFargateServiceProps) {
    // Checked before super(): a refused service leaves no empty construct behind in the tree.
    if (props.containers.length === 0) throw new Error(`${props.serviceName}: a service needs at least one container`);
    if (props.target && !props.containers.some((c) => c.options.containerName === props.target!.containerName)) {
      throw new Error(`${props.serviceName}: target.containerName "${props.target.containerName}" names none of the containers`);
    }
    if (!props.target && (props.routes || props.healthCheckGracePeriod)) {
      throw new Error(`${props.serviceName}: routes and healthCheckGracePeriod need a target (ECS applies the grace period to load balancer health checks only)`);
    }
    super(scope, id);
    const vpc = props.cluster.vpc;

    this.securityGroup = Construct.isConstruct(props.securityGroup) ? props.securityGroup : this.ownSecurityGroup(vpc, props.securityGroup);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: props.serviceName,
      cpu: props.taskSize.cpu,
      memoryLimitMiB: props.taskSize.memoryMiB,
      runtimePlatform: fargateRuntimePlatform(props.architecture),
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: props.namedLogGroup === false ? undefined : `/ecs/${props.serviceName}`,
      retention: props.logRetention,
      removalPolicy: keepOnceCreated({ production: props.retainLogs ?? false }),
    });

    const containers: Record<string, ecs.ContainerDefinition> = {};
    for (const c of props.containers) {
      const { directory, ...imageOptions } = c.image;
      containers[c.id] = this.taskDefinition.addContainer(c.id, {
        ...c.options,
        image: dockerAssetImage(props.architecture, directory, imageOptions),
        healthCheck: {
          command: ['CMD-SHELL', c.healthCheck.command],
          interval: Duration.seconds(c.healthCheck.intervalSeconds),
          timeout: Duration.seconds(c.healthCheck.timeoutSeconds),
          retries: c.healthCheck.retries,
          startPeriod: Duration.seconds(c.healthCheck.startPeriodSeconds),
        },
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: c.streamPrefix }),
      });
    }
    this.containers = containers;

    const d = props.discovery;
    const namespace = !d ? undefined : 'namespace' in d ? d.namespace : new servicediscovery.PrivateDnsNamespace(this, 'Namespace', { name: d.namespaceName, vpc, description: d.description });
    this.namespace = namespace;

    const bounds = props.deploymentBounds ?? { minHealthyPercent: 100, maxHealthyPercent: 200 };
    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: props.serviceName,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 1,
      minHealthyPercent: bounds.minHealthyPercent,
      maxHealthyPercent: bounds.maxHealthyPercent,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: props.healthCheckGracePeriod,
      propagateTags: props.propagateTags,
      cloudMapOptions:
        namespace && props.discovery ? { cloudMapNamespace: namespace, name: props.discovery.name, dnsRecordType: servicediscovery.DnsRecordType.A, dnsTtl: Duration.seconds(10) } : undefined,
    });
    if (namespace && props.discovery && props.target) this.internalUrl = `http://${props.discovery.name}.${namespace.namespaceName}:${props.target.port}`;
    if (!props.target) {
      this.acknowledgeTask(props);
      return;
    }

    const hc = props.target.healthCheck;
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc,
      port: props.target.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: props.target.deregistrationDelay ?? Duration.seconds(30),
      healthCheck: {
        path: hc.path,
        healthyHttpCodes: '200',
        interval: Duration.seconds(hc.intervalSeconds),
        timeout: Duration.seconds(hc.timeoutSeconds),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: hc.retries,
      },
    });
    this.ownTargetGroup = targetGroup;
    targetGroup.addTarget(this.service.loadBalancerTarget({ containerName: props.target.containerName, containerPort: props.target.port }));

    const routes = props.routes;
    this.rules = (routes?.rules ?? []).map(
      (r) =>
        new elbv2.ApplicationListenerRule(this, r.id, {
          listener: routes!.listener,
          priority: r.priority,
          conditions: [elbv2.ListenerCondition.hostHeaders([routes!.hostHeader]), elbv2.ListenerCondition.pathPatterns(r.paths)],
          action: elbv2.ListenerAction.forward([targetGroup]),
        }),
    );
    // ECS refuses a target group that no listener rule uses yet; one rule is enough.
    if (this.rules[0]) this.service.node.addDependency(this.rules[0]);
    this.acknowledgeTask(props);
  }

  /** The service's target group; refused for a service made without `target`. */
  public get targetGroup(): elbv2.ApplicationTargetGroup {
    if (!this.ownTargetGroup) throw new Error(`${this.node.path}: this service has no target group (it was made without a target)`);
    return this.ownTargetGroup;
  }

  private acknowledgeTask(props: ChatFargateServiceProps): void {
    acknowledgeNag(
      this.taskDefinition,
      { id: 'AwsSolutions-ECS2', reason: props.plainEnvironmentReason },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The execution role pulls the image from the CDK asset repository: ecr:GetAuthorizationToken has no resource-level permissions.',
      },
    );
  }

  private ownSecurityGroup(vpc: ec2.IVpc, props: OwnSecurityGroupProps): ec2.SecurityGroup {
    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      securityGroupName: props.securityGroupName,
      description: props.description,
      allowAllOutbound: false,
    });
    for (const r of props.ingress) sg.addIngressRule(r.peer, r.port, r.description);
    for (const r of props.egress) sg.addEgressRule(r.peer, r.port, r.description);
    return sg;
  }
}

/** What every chat service construct takes from the stack: where its tasks run, how they are built and how long their logs stay. */
export interface ChatServiceCommonProps {
  /** The ECS cluster; its VPC holds the tasks. */
  readonly cluster: ecs.ICluster;
  /**
   * The tasks' subnets.
   * @default - the private subnets with egress of the cluster's VPC
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Names of the service, task family and log group start with it (`<prefix>-synapse`). */
  readonly prefix: string;
  /** What the images are built for and the tasks run on. */
  readonly architecture: ImageArchitecture;
  /** How long the service's log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Whether the log group outlives the stack (RetainExceptOnCreate, see removal-policy.ts).
   * @default false - the log group is deleted with the stack
   */
  readonly retainLogs?: boolean;
}

/** The part of a service construct's common props that ChatFargateService takes as they are. */
export function fargateCommonProps(props: ChatServiceCommonProps): Omit<ChatServiceCommonProps, 'prefix'> {
  return { cluster: props.cluster, vpcSubnets: props.vpcSubnets, architecture: props.architecture, logRetention: props.logRetention, retainLogs: props.retainLogs };
}
