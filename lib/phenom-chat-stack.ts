import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ChatShared } from './chat-shared';
import { ChatHasuraLite } from './chat-hasura-lite';
import { ChatLinkPreview } from './chat-link-preview';
import { ChatMcpServer } from './chat-mcp-server';
import { ChatSynapse } from './chat-synapse';
import { ChatConfig } from './config';
import { Platform } from './platform';

export interface PhenomChatStackProps extends StackProps {
  readonly config: ChatConfig;
}

/**
 * One environment of the chat system. The platform comes first; the five chat
 * constructs of the seeds' module graph (ChatShared, ChatLinkPreview,
 * ChatHasuraLite, ChatSynapse, ChatMcpServer) are wired below it in dependency order.
 */
export class PhenomChatStack extends Stack {
  public readonly platform: Platform;
  public readonly shared: ChatShared;
  public readonly linkPreview: ChatLinkPreview;
  public readonly hasuraLite: ChatHasuraLite;
  public readonly synapse: ChatSynapse;
  public readonly mcpServer: ChatMcpServer;

  constructor(scope: Construct, id: string, props: PhenomChatStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('project', config.projectName);
    Tags.of(this).add('environment', config.envName);

    this.platform = new Platform(this, 'Platform', { config });

    // --- chat constructs (wired by their issues, in the seeds' dependency order) ---

    this.shared = new ChatShared(this, 'ChatShared', { config, platform: this.platform });
    this.linkPreview = new ChatLinkPreview(this, 'ChatLinkPreview', { config, platform: this.platform });
    this.hasuraLite = new ChatHasuraLite(this, 'ChatHasuraLite', { config, platform: this.platform, linkPreview: this.linkPreview });

    this.synapse = new ChatSynapse(this, 'ChatSynapse', {
      config,
      platform: this.platform,
      clientsSecret: this.shared.clientsSecret,
    });

    this.mcpServer = new ChatMcpServer(this, 'ChatMcpServer', {
      config,
      platform: this.platform,
      clientsSecret: this.shared.clientsSecret,
      hasuraEndpoint: this.hasuraLite.graphqlEndpoint,
      synapseUrl: this.synapse.internalUrl,
      synapseBotTokenSecret: this.synapse.adminBotTokenSecret,
      agentUserId: this.shared.machineAccount.userSub,
    });
    // Only the selected backend lets the MCP tasks in (the postgres backend's RDS rule is the ECS tasks SG's).
    if (config.mcp.backendType === 'hasura') this.hasuraLite.hasura.engine?.allowFrom(this.mcpServer, 'MCP server (GraphQL as the agent)');
    if (config.mcp.backendType === 'synapse') this.synapse.allowFrom(this.mcpServer, 'MCP server (Matrix client API as the bot)');

    new CfnOutput(this, 'ChatUrl', { value: `https://${config.domainName}`, description: 'Public base URL of the chat system' });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: this.platform.loadBalancer.loadBalancer.loadBalancerDnsName,
      description: `Point the ${config.domainName} CNAME at this name`,
    });
    new CfnOutput(this, 'ClusterName', { value: this.platform.cluster.clusterName });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.platform.database.secret.secretArn });
    new CfnOutput(this, 'UserPoolId', { value: this.platform.userPool.userPool.userPoolId });
  }
}
