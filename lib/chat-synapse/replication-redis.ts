import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

/** Valkey's (and Redis's) port; see the AwsSolutions-AEC5 acknowledgement for why it stays the default. */
export const REDIS_PORT = 6379;

/**
 * Valkey, not Redis OSS: the same protocol Synapse speaks (txredisapi: AUTH, PUBLISH/SUBSCRIBE), and
 * ElastiCache prices Valkey nodes about 20% below Redis OSS ones. The CloudFormation reference lists no
 * engine versions (DescribeCacheEngineVersions does, which needs AWS): 8.0 is the Valkey major ElastiCache
 * offered when this was written, not re-checked here, and preflight does not ask for it.
 */
export const REDIS_ENGINE = { engine: 'valkey', engineVersion: '8.0' } as const;

export interface ReplicationRedisProps {
  readonly vpc: ec2.IVpc;
  /**
   * The nodes' subnets.
   * @default - the VPC's private subnets with egress, where the Synapse tasks run
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Names start with it (`<prefix>-synapse-redis`). */
  readonly prefix: string;
  /** ElastiCache node type, e.g. cache.t4g.small. */
  readonly nodeType: string;
  /** Read replicas besides the primary; one or more turns on Multi-AZ automatic failover. */
  readonly replicas: number;
}

/**
 * The Redis Synapse's processes replicate over (Synapse docs, workers.md: "Redis is used as the
 * replication transport between processes"): ElastiCache for Valkey, one shard, TLS in transit,
 * encryption at rest, and an AUTH token generated into Secrets Manager that reaches ElastiCache by
 * dynamic reference and the tasks as an ECS secret. Its SG admits nobody until `allowFrom`.
 */
export class ReplicationRedis extends Construct {
  public readonly securityGroup: ec2.SecurityGroup;
  /** The AUTH token: the whole SecretString (16–128 characters, alphanumeric). */
  public readonly authToken: secretsmanager.Secret;
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The primary endpoint's address (it follows a failover). */
  public readonly host: string;
  public readonly port = REDIS_PORT;

  constructor(scope: Construct, id: string, props: ReplicationRedisProps) {
    if (props.replicas < 0 || props.replicas > 5 || !Number.isInteger(props.replicas))
      throw new Error(`${id}: replicas must be an integer from 0 to 5 (ElastiCache's limit per shard), got ${props.replicas}`);
    super(scope, id);
    const name = `${props.prefix}-synapse-redis`;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: name,
      description: 'Synapse replication Redis: 6379 from the Synapse main and worker tasks only',
      allowAllOutbound: false,
    });

    // ElastiCache allows 16–128 printable characters, with punctuation limited to !&#$^<>-; alphanumerics
    // at this length keep three character types and need no escaping in Synapse's YAML or a shell.
    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      secretName: `${props.prefix}/synapse/redis-auth-token`,
      description: 'AUTH token of the Synapse replication Redis (ElastiCache reads it by dynamic reference; the Synapse tasks through ECS secrets)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      cacheSubnetGroupName: name,
      description: 'Private subnets of the Synapse replication Redis',
      subnetIds: subnets.subnetIds,
    });

    const failover = props.replicas > 0;
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupId: name,
      replicationGroupDescription: 'Synapse worker replication (pub/sub between the main process and its workers)',
      engine: REDIS_ENGINE.engine,
      engineVersion: REDIS_ENGINE.engineVersion,
      cacheNodeType: props.nodeType,
      numNodeGroups: 1,
      replicasPerNodeGroup: props.replicas,
      automaticFailoverEnabled: failover,
      multiAzEnabled: failover,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      port: REDIS_PORT,
      transitEncryptionEnabled: true,
      // "required": plaintext connections are refused, so the token never crosses the VPC in clear.
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: 1,
    });
    this.host = this.replicationGroup.attrPrimaryEndPointAddress;

    acknowledgeNag(
      this.replicationGroup,
      {
        id: 'AwsSolutions-AEC5',
        reason:
          'Port 6379: the SG admits only the Synapse task SGs, and every connection needs TLS and the AUTH token; a different port number would hide nothing from a peer that can already reach the subnet.',
      },
      ...(failover
        ? []
        : [
            {
              id: 'AwsSolutions-AEC4',
              reason: 'synapse.workers.redis.replicas is 0 in this environment: with no replica there is nothing to fail over to, and replication state is rebuilt from the database on restart.',
            },
          ]),
    );
    acknowledgeNag(this.authToken, {
      id: 'AwsSolutions-SMG4',
      reason:
        'ElastiCache changes an AUTH token only through ModifyReplicationGroup (ROTATE, then SET once every client uses the new one), with every Synapse process restarted in between; Secrets Manager has no rotation function for that, so this token is not rotated automatically.',
    });
  }

  /** Lets `peer` (a Synapse task SG) connect on 6379; it adds the matching egress rule to `peer` when that SG limits outbound. */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(REDIS_PORT), description);
  }
}
