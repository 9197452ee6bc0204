import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { ChatServiceCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { ReplicationRedis } from './replication-redis';
import { SynapseProcessRole, SynapseProcessWiring } from './synapse-task';
import { SynapseWorkerService } from './worker-service';

/** The container environment that tells every Synapse process where the replication Redis is. */
export const SYNAPSE_REDIS_ENV = { host: 'SYNAPSE_REDIS_HOST', port: 'SYNAPSE_REDIS_PORT', password: 'SYNAPSE_REDIS_PASSWORD' } as const;

/** One worker process as the fleet runs it (one ECS service). */
export interface SynapseWorkerProcess {
  /** Its worker_name, service name suffix and Cloud Map name. */
  readonly name: string;
  /** Its rendered config (placeholders only). */
  readonly configYaml: string;
  /** Tasks: fixed when equal, else scaled on CPU. */
  readonly minCount: number;
  readonly maxCount: number;
  /** Never two tasks at once (a stream writer or a federation sender shard). */
  readonly exclusive: boolean;
  /**
   * The port of its replication listener, when it has one (it is in instance_map: a stream writer),
   * which the main process and every other worker may reach.
   * @default - none: it only connects out
   */
  readonly replicationPort?: number;
}

export interface SynapseWorkerFleetProps extends ChatServiceCommonProps, SynapseProcessWiring {
  readonly vpc: ec2.IVpc;
  /** Size of every worker task (the main process's size). */
  readonly taskSize: TaskSize;
  /** The main process's namespace (its `homeserver` name is instance_map's `main`). */
  readonly namespace: servicediscovery.IPrivateDnsNamespace;
  readonly loadBalancer: ec2.IConnectable;
  /** The main process's tasks, which the workers reach on `mainReplicationPort`. */
  readonly main: ec2.IConnectable;
  /** The main process's replication listener (instance_map's `main` port). */
  readonly mainReplicationPort: number;
  readonly redisNodeType: string;
  readonly redisReplicas: number;
  readonly workers: readonly SynapseWorkerProcess[];
}

/**
 * Synapse's workers beside the main process: the replication Redis, one Fargate service per worker,
 * and the SG rules between them. Redis admits only the main and worker SGs; the main process admits
 * the workers on its replication port; a worker with a replication listener admits the main process
 * and the other workers on it. Nothing else changes in the main process's SG.
 */
export class SynapseWorkerFleet extends Construct {
  public readonly redis: ReplicationRedis;
  /** The worker services by worker name, in the order given. */
  public readonly workers: ReadonlyMap<string, SynapseWorkerService>;
  /** The Redis environment and AUTH secret, for the main process's container too. */
  public readonly redisRole: Required<Pick<SynapseProcessRole, 'environment' | 'secrets'>>;

  constructor(scope: Construct, id: string, props: SynapseWorkerFleetProps) {
    const names = props.workers.map((w) => w.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new Error(`${id}: two workers are named "${dup}"; every worker_name must be unique`);
    if (names.includes('homeserver')) throw new Error(`${id}: "homeserver" is the main process's Cloud Map name; name the worker otherwise`);
    if (props.workers.length === 0) throw new Error(`${id}: a worker fleet needs at least one worker`);
    super(scope, id);

    this.redis = new ReplicationRedis(this, 'Redis', { vpc: props.vpc, vpcSubnets: props.vpcSubnets, prefix: props.prefix, nodeType: props.redisNodeType, replicas: props.redisReplicas });
    this.redisRole = {
      environment: { [SYNAPSE_REDIS_ENV.host]: this.redis.host, [SYNAPSE_REDIS_ENV.port]: String(this.redis.port) },
      secrets: { [SYNAPSE_REDIS_ENV.password]: ecs.Secret.fromSecretsManager(this.redis.authToken) },
    };
    this.redis.allowFrom(props.main, 'Redis from the Synapse main process');

    const workers = new Map<string, SynapseWorkerService>();
    for (const w of props.workers) {
      const service = new SynapseWorkerService(this, pascal(w.name), {
        ...props,
        workerName: w.name,
        role: {
          configYaml: w.configYaml,
          environment: this.redisRole.environment,
          secrets: this.redisRole.secrets,
          portMappings: w.replicationPort ? [{ containerPort: w.replicationPort, name: 'replication' }] : undefined,
        },
        count: { minCount: w.minCount, maxCount: w.maxCount },
        exclusive: w.exclusive,
      });
      this.redis.allowFrom(service.service, `Redis from Synapse worker ${w.name}`);
      props.main.connections.allowFrom(service.service, ec2.Port.tcp(props.mainReplicationPort), `Synapse replication from worker ${w.name}`);
      workers.set(w.name, service);
    }
    for (const w of props.workers.filter((x) => x.replicationPort)) {
      const target = workers.get(w.name)!.service;
      const port = ec2.Port.tcp(w.replicationPort!);
      target.connections.allowFrom(props.main, port, `Synapse replication to ${w.name} from the main process`);
      for (const [other, service] of workers) if (other !== w.name) target.connections.allowFrom(service.service, port, `Synapse replication to ${w.name} from worker ${other}`);
    }
    this.workers = workers;
  }
}

/** `federation-sender-1` → `FederationSender1`: a stable construct id per worker name. */
function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
