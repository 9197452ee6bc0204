import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { ClientRoleSecrets } from './client-role-secrets';
import { Cluster, ClusterProps } from './cluster';
import { Database, DatabaseProps } from './database';
import { LoadBalancer, LoadBalancerProps } from './load-balancer';
import { Network, NetworkProps } from './network';
import { ChatSecurityGroups } from './security-groups';
import { ChatUserPool, UserPoolProps } from './user-pool';

export * from './security-groups';
export { CHAT_DATABASE_NAME } from './database';
export { ClientRoleSecrets, databaseWithSecret } from './client-role-secrets';
export type { ClusterProps } from './cluster';
export type { CreatedDatabaseProps, DatabaseProps, ImportedDatabaseProps } from './database';
export type { CreatedLoadBalancerProps, ImportedLoadBalancerProps, LoadBalancerCertificate, LoadBalancerProps } from './load-balancer';
export type { CreatedNetworkProps, ImportedNetworkProps, NetworkProps } from './network';
export type { CreatedUserPoolProps, ImportedUserPoolProps, UserPoolEmailProps, UserPoolProps } from './user-pool';

/** A part's props without the VPC, which the platform passes in itself (applied to each member of a union). */
export type WithoutVpc<T> = T extends unknown ? Omit<T, 'vpc'> : never;

export interface PlatformProps {
  /** Names of the task security groups start with it (`<prefix>-synapse`, `<prefix>-chat-mcp`, `<prefix>-synapse-admin`). */
  readonly prefix: string;
  /** The VPC, created or existing. */
  readonly network: NetworkProps;
  /** The ALB and its HTTPS listener, created or existing. */
  readonly loadBalancer: WithoutVpc<LoadBalancerProps>;
  /** The ECS cluster, created or existing. */
  readonly cluster: WithoutVpc<ClusterProps>;
  /** The RDS PostgreSQL instance, created or existing. */
  readonly database: WithoutVpc<DatabaseProps>;
  /** The Cognito user pool, created or existing. */
  readonly userPool: UserPoolProps;
}

/**
 * What the seeds assume already exists: VPC, ALB, ECS cluster, RDS and the
 * Cognito user pool. Each part is created, or imported from the attributes
 * its props give; either way the chat constructs see the same interfaces.
 */
export class Platform extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Private subnets with egress: tasks and Lambdas. */
  public readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  public readonly listener: elbv2.IApplicationListener;
  public readonly loadBalancer: LoadBalancer;
  public readonly cluster: ecs.ICluster;
  public readonly database: Database;
  /** A generated secret per client role of the chat database, and the database as each client connects to it. */
  public readonly clientRoles: ClientRoleSecrets;
  public readonly userPool: ChatUserPool;
  public readonly securityGroups: ChatSecurityGroups;

  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    const vpc = { vpc: (this.vpc = new Network(this, 'Network', props.network).vpc) };
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', { ...props.loadBalancer, ...vpc });
    this.listener = this.loadBalancer.listener;
    this.cluster = new Cluster(this, 'Cluster', { ...props.cluster, ...vpc }).cluster;
    this.database = new Database(this, 'Database', 'existing' in props.database ? props.database : { ...props.database, ...vpc });
    this.clientRoles = new ClientRoleSecrets(this, 'ClientRoles', { prefix: props.prefix, database: this.database, vpc: this.vpc, vpcSubnets: this.privateSubnets });
    this.userPool = new ChatUserPool(this, 'UserPool', props.userPool);
    this.securityGroups = new ChatSecurityGroups(this, 'SecurityGroups', {
      vpc: this.vpc,
      albSecurityGroup: this.loadBalancer.securityGroup,
      databaseSecurityGroup: this.database.securityGroup,
      prefix: props.prefix,
    });
  }
}
