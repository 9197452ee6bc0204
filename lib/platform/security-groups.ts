import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/** The ports the seeds route through the ALB (seed 000, "ALB Routing Rules"). */
export const SYNAPSE_PORT = 8008;
export const MCP_SERVER_PORT = 3001;
export const SYNAPSE_ADMIN_PORT = 80;
export const POSTGRES_PORT = 5432;

export interface ChatSecurityGroupsProps {
  readonly vpc: ec2.IVpc;
  readonly albSecurityGroup: ec2.ISecurityGroup;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  readonly prefix: string;
}

/**
 * The task security groups exactly as seed 000 "Security Groups" lists them:
 *
 *   Synapse SG:   in 8008 from ALB SG; out 5432 to RDS SG, out 443 to 0.0.0.0/0
 *   ECS tasks SG: in 3001 and 80 from ALB SG; out all
 *   RDS SG:       in 5432 from Synapse SG and ECS tasks SG; no outbound
 *
 * Lambdas that need the database get their own SG and are let in with
 * `allowDatabaseFrom`, so each path into RDS is visible as its own rule.
 */
export class ChatSecurityGroups extends Construct {
  public readonly synapse: ec2.SecurityGroup;
  public readonly ecsTasks: ec2.SecurityGroup;
  private readonly database: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: ChatSecurityGroupsProps) {
    super(scope, id);
    this.database = props.databaseSecurityGroup;

    this.synapse = new ec2.SecurityGroup(this, 'Synapse', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-synapse`,
      description: 'Synapse homeserver tasks',
      allowAllOutbound: false,
    });
    this.synapse.addIngressRule(props.albSecurityGroup, ec2.Port.tcp(SYNAPSE_PORT), 'Matrix client/federation traffic from the ALB');
    this.synapse.addEgressRule(props.databaseSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'Synapse database on RDS');
    this.synapse.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Cognito OIDC, federation, S3, Secrets Manager, CloudWatch');

    this.ecsTasks = new ec2.SecurityGroup(this, 'EcsTasks', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-chat-ecs-tasks`,
      description: 'Chat ECS tasks (MCP server, Synapse Admin UI)',
      allowAllOutbound: true,
    });
    this.ecsTasks.addIngressRule(props.albSecurityGroup, ec2.Port.tcp(MCP_SERVER_PORT), 'MCP server from the ALB');
    this.ecsTasks.addIngressRule(props.albSecurityGroup, ec2.Port.tcp(SYNAPSE_ADMIN_PORT), 'Synapse Admin UI from the ALB');

    this.allowDatabaseFrom(this.synapse, 'Synapse');
    this.allowDatabaseFrom(this.ecsTasks, 'ECS tasks');
  }

  /** Opens 5432 on the RDS SG to `peer`; `description` names who connects and why. */
  public allowDatabaseFrom(peer: ec2.IConnectable & { readonly connections: ec2.Connections }, description: string): void {
    const sg = peer.connections.securityGroups[0];
    if (!sg) throw new Error(`allowDatabaseFrom(${description}): the peer has no security group`);
    this.database.addIngressRule(sg, ec2.Port.tcp(POSTGRES_PORT), `PostgreSQL from ${description}`);
  }
}
