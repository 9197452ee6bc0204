import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ChatServiceCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { acknowledgeNag } from '../nag';
import { ReplicationRedis } from './replication-redis';
import { SynapseProcessRole, SynapseProcessWiring } from './synapse-task';
import { SynapseWorkerService } from './worker-service';
import { SYNAPSE_MAIN_DISCOVERY_NAME, SYNAPSE_REPLICATION_PORT, SynapseWorkerProcess, WORKER_PLAIN_ENV, WORKER_SECRET_ENV } from './workers';

/** One worker service as the fleet runs it: the process (workers/config.ts), its rendered config and task counts. */
export interface SynapseWorkerServiceSpec {
  readonly process: SynapseWorkerProcess;
  /** Its rendered config (placeholders only). */
  readonly configYaml: string;
  /** Tasks: fixed when equal (every process but the generic kind is one named task), else scaled on CPU. */
  readonly minCount: number;
  readonly maxCount: number;
}

export interface SynapseWorkerFleetProps extends ChatServiceCommonProps, SynapseProcessWiring {
  readonly vpc: ec2.IVpc;
  /** Size of every worker task (the main process's size). */
  readonly taskSize: TaskSize;
  /** The main process's namespace (its `homeserver` name is instance_map's `main`). */
  readonly namespace: servicediscovery.IPrivateDnsNamespace;
  readonly loadBalancer: ec2.IConnectable;
  /** The main process's tasks, which the workers reach on SYNAPSE_REPLICATION_PORT. */
  readonly main: ec2.IConnectable;
  /** The main process's Synapse container: it gets the Redis host, the two shared secrets and the replication port. */
  readonly mainContainer: ecs.ContainerDefinition;
  readonly redisNodeType: string;
  readonly redisReplicas: number;
  readonly workers: readonly SynapseWorkerServiceSpec[];
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
  /** Authenticates replication HTTP between the processes (worker_replication_secret). */
  public readonly replicationSecret: secretsmanager.Secret;
  /** The Redis host and the two secrets every process reads, for the main process's container too. */
  public readonly sharedRole: Required<Pick<SynapseProcessRole, 'environment' | 'secrets'>>;

  constructor(scope: Construct, id: string, props: SynapseWorkerFleetProps) {
    const names = props.workers.map((w) => w.process.serviceName);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new Error(`${id}: two worker services are named "${dup}"`);
    if (names.includes(SYNAPSE_MAIN_DISCOVERY_NAME)) throw new Error(`${id}: "${SYNAPSE_MAIN_DISCOVERY_NAME}" is the main process's Cloud Map name; name the worker otherwise`);
    if (props.workers.length === 0) throw new Error(`${id}: a worker fleet needs at least one worker; leave it out for a single process`);
    for (const w of props.workers) {
      if (!w.process.scalable && w.maxCount !== 1) throw new Error(`${id}: ${w.process.serviceName} is one named process; it runs exactly one task, got ${w.minCount}–${w.maxCount}`);
    }
    super(scope, id);

    this.redis = new ReplicationRedis(this, 'Redis', { vpc: props.vpc, vpcSubnets: props.vpcSubnets, prefix: props.prefix, nodeType: props.redisNodeType, replicas: props.redisReplicas });
    this.replicationSecret = new secretsmanager.Secret(this, 'ReplicationSecret', {
      secretName: `${props.prefix}/synapse/replication-secret`,
      description: 'Synapse worker_replication_secret: authenticates replication HTTP between the main process and its workers',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledgeNag(this.replicationSecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'Every Synapse process reads this shared secret at start and refuses replication requests signed with another; a rotation would have to restart them all at once, so it changes with a deploy instead.',
    });
    this.sharedRole = {
      environment: { [WORKER_PLAIN_ENV.redisHost]: this.redis.host },
      secrets: {
        [WORKER_SECRET_ENV.redisPassword]: ecs.Secret.fromSecretsManager(this.redis.authToken),
        [WORKER_SECRET_ENV.replicationSecret]: ecs.Secret.fromSecretsManager(this.replicationSecret),
      },
    };
    this.redis.allowFrom(props.main, 'Redis from the Synapse main process');
    for (const [k, v] of Object.entries(this.sharedRole.environment)) props.mainContainer.addEnvironment(k, v);
    for (const [k, v] of Object.entries(this.sharedRole.secrets)) props.mainContainer.addSecret(k, v);
    props.mainContainer.addPortMappings({ containerPort: SYNAPSE_REPLICATION_PORT, name: 'replication' });

    const workers = new Map<string, SynapseWorkerService>();
    for (const w of props.workers) {
      const p = w.process;
      const service = new SynapseWorkerService(this, pascal(p.serviceName), {
        ...props,
        workerName: p.serviceName,
        kind: p.kind,
        role: {
          configYaml: w.configYaml,
          ...this.sharedRole,
          servesClients: p.servesClients,
          portMappings: p.replicationListener ? [{ containerPort: SYNAPSE_REPLICATION_PORT, name: 'replication' }] : undefined,
        },
        count: { minCount: w.minCount, maxCount: w.maxCount },
        exclusive: !p.scalable,
      });
      this.redis.allowFrom(service.service, `Redis from Synapse worker ${p.serviceName}`);
      props.main.connections.allowFrom(service.service, ec2.Port.tcp(SYNAPSE_REPLICATION_PORT), `Synapse replication from worker ${p.serviceName}`);
      workers.set(p.serviceName, service);
    }
    const port = ec2.Port.tcp(SYNAPSE_REPLICATION_PORT);
    for (const w of props.workers.filter((x) => x.process.replicationListener)) {
      const target = workers.get(w.process.serviceName)!.service;
      target.connections.allowFrom(props.main, port, `Synapse replication to ${w.process.serviceName} from the main process`);
      for (const [other, service] of workers) if (other !== w.process.serviceName) target.connections.allowFrom(service.service, port, `Synapse replication to ${w.process.serviceName} from ${other}`);
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
