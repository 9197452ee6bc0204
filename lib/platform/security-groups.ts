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
 * The task security groups, one per service, with seed 000's port table ("Security Groups"):
 *
 *   Synapse SG:   in 8008 from ALB SG; out 5432 to RDS SG, out 443 to 0.0.0.0/0
 *   MCP SG:       in 3001 from ALB SG; out all
 *   Admin UI SG:  in 80 from ALB SG; out all
 *   RDS SG:       in 5432 from Synapse SG (and each other client that needs it); no outbound
 *
 * The seed's shared "ECS tasks" SG (MCP + Admin UI) is split: RDS admitted it for the MCP server's
 * postgres backend, which gave the Admin UI (a static app that never needs the database) a path to
 * RDS too. Now no SG is admitted to RDS here but Synapse's; every other client admits its own SG
 * (`database.connections.allowFrom` in its construct), and only when it
 * connects: the MCP server with the postgres backend, Hasura, the Lambdas that run SQL.
 */
export class ChatSecurityGroups extends Construct {
  public readonly synapse: ec2.SecurityGroup;
  public readonly mcpServer: ec2.SecurityGroup;
  public readonly adminUi: ec2.SecurityGroup;
  private readonly database: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: ChatSecurityGroupsProps) {
    super(scope, id);
    this.database = props.databaseSecurityGroup;
    const fromAlb = (sgId: string, name: string, description: string, allowAllOutbound: boolean, port: number, why: string): ec2.SecurityGroup => {
      const sg = new ec2.SecurityGroup(this, sgId, { vpc: props.vpc, securityGroupName: `${props.prefix}-${name}`, description, allowAllOutbound });
      sg.addIngressRule(props.albSecurityGroup, ec2.Port.tcp(port), why);
      return sg;
    };

    this.synapse = fromAlb('Synapse', 'synapse', 'Synapse homeserver tasks', false, SYNAPSE_PORT, 'Matrix client/federation traffic from the ALB');
    this.synapse.addEgressRule(props.databaseSecurityGroup, ec2.Port.tcp(POSTGRES_PORT), 'Synapse database on RDS');
    this.synapse.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Cognito OIDC, federation, S3, Secrets Manager, CloudWatch');
    this.database.addIngressRule(this.synapse, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from Synapse');

    this.mcpServer = fromAlb('McpServer', 'chat-mcp', 'Chat MCP server tasks', true, MCP_SERVER_PORT, 'MCP server from the ALB');
    this.adminUi = fromAlb('AdminUi', 'synapse-admin', 'Synapse Admin UI tasks (static app, no database)', true, SYNAPSE_ADMIN_PORT, 'Synapse Admin UI from the ALB');
  }
}
