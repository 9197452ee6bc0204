import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { Cluster } from './cluster';
import { Database } from './database';
import { LoadBalancer } from './load-balancer';
import { Network } from './network';
import { ChatSecurityGroups } from './security-groups';
import { ChatUserPool } from './user-pool';

export * from './security-groups';
export { CHAT_DATABASE_NAME } from './database';

export interface PlatformProps {
  readonly config: ChatConfig;
}

/**
 * What the seeds assume already exists: VPC, ALB, ECS cluster, RDS and the
 * Cognito user pool. Each part is created, or imported from the config's
 * attributes; either way the chat constructs see the same interfaces.
 */
export class Platform extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Private subnets with egress: tasks and Lambdas. */
  public readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  public readonly listener: elbv2.IApplicationListener;
  public readonly loadBalancer: LoadBalancer;
  public readonly cluster: ecs.ICluster;
  public readonly database: Database;
  public readonly userPool: ChatUserPool;
  public readonly securityGroups: ChatSecurityGroups;

  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    const { config } = props;

    this.vpc = new Network(this, 'Network', { config }).vpc;
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', { config, vpc: this.vpc });
    this.listener = this.loadBalancer.listener;
    this.cluster = new Cluster(this, 'Cluster', { config, vpc: this.vpc }).cluster;
    this.database = new Database(this, 'Database', { config, vpc: this.vpc });
    this.userPool = new ChatUserPool(this, 'UserPool', { config });
    this.securityGroups = new ChatSecurityGroups(this, 'SecurityGroups', {
      vpc: this.vpc,
      albSecurityGroup: this.loadBalancer.securityGroup,
      databaseSecurityGroup: this.database.securityGroup,
      prefix: config.prefix,
    });
  }
}
