import { AspectPriority, Aspects, CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AbEvaluation } from './ab-evaluation';
import { ChatShared } from './chat-shared';
import { ChatMembershipReconciler } from './chat-shared/membership-reconciler';
import { ChatHasuraLite } from './chat-hasura-lite';
import { ChatDatabaseRoles } from './chat-hasura-lite/database-roles';
import { ChatMcpServer } from './chat-mcp-server';
import { ChatLinkPreview } from './chat-link-preview';
import { ADMIN_BOT_TOKEN_SECRET_KEY, ChatSynapse } from './chat-synapse';
import { ChatConfig } from './config';
import {
  chatDatabase,
  chatFunctionCommonProps,
  chatFunctionVpcProps,
  chatHasuraLiteProps,
  chatLinkPreviewProps,
  chatMcpServerPlatformProps,
  chatMembershipReconcilerPlatformProps,
  chatOperationsPlatformProps,
  chatSharedProps,
  chatSynapseProps,
  deletionProtectionProps,
  platformProps,
  synapseHistoryPurgePlatformProps,
} from './construct-props';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService } from './constructs/chat-fargate-service';
import { cnameRecord, DNS_RECORD_OUTPUTS, matrixServerWellKnown } from './dns-records';
import { CustomResourceServiceTimeouts } from './constructs/chat-custom-resource';
import { ChatOperations, customResourceProperties, discoverChatFunctions, SynapseHistoryPurge } from './operations';
import { Platform } from './platform';
import { DeletionProtection } from './platform/deletion-protection';
import { RestartOnRotation, RotationRestart } from './platform/restart-on-rotation';

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
  public readonly membershipReconciler: ChatMembershipReconciler;
  public readonly operations: ChatOperations;
  public readonly abEvaluation: AbEvaluation;
  public readonly databaseRoles: ChatDatabaseRoles;

  constructor(scope: Construct, id: string, props: PhenomChatStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('project', config.projectName);
    Tags.of(this).add('environment', config.envName);
    Aspects.of(this).add(new CustomResourceServiceTimeouts(), { priority: AspectPriority.MUTATING });

    this.platform = new Platform(this, 'Platform', platformProps(config));
    // RDS/ALB deletion protection and the stack's termination protection, in a way a failed first deploy can undo.
    new DeletionProtection(this, 'DeletionProtection', deletionProtectionProps(config, this.platform));

    // --- chat constructs (wired by their issues, in the seeds' dependency order) ---

    this.shared = new ChatShared(this, 'ChatShared', chatSharedProps(config, this.platform));
    this.linkPreview = new ChatLinkPreview(this, 'ChatLinkPreview', chatLinkPreviewProps(this, config, this.platform));
    this.hasuraLite = new ChatHasuraLite(this, 'ChatHasuraLite', chatHasuraLiteProps(this, config, this.platform, this.linkPreview, this.shared.hasuraClients));

    this.synapse = new ChatSynapse(this, 'ChatSynapse', chatSynapseProps(this, config, this.platform, this.shared.clientsSecret));

    // Cognito groups → Hasura Lite rows and Synapse rooms (issue #13 item 1).
    this.membershipReconciler = new ChatMembershipReconciler(this, 'ChatMembershipReconciler', {
      ...chatMembershipReconcilerPlatformProps(config, this.platform),
      synapseOidcClient: this.shared.synapseOidcClient,
      synapse: {
        internalUrl: this.synapse.internalUrl,
        connections: this.synapse.synapse.service,
        botTokenSecret: this.synapse.adminBotTokenSecret,
        botTokenSecretKey: ADMIN_BOT_TOKEN_SECRET_KEY,
      },
    });

    this.mcpServer = new ChatMcpServer(this, 'ChatMcpServer', {
      ...chatMcpServerPlatformProps(config, this.platform),
      clientsSecret: this.shared.clientsSecret,
      interactiveClient: this.shared.mcpInteractiveClient,
      hasuraEndpoint: this.hasuraLite.graphqlEndpoint,
      synapseUrl: this.synapse.internalUrl,
      synapseBotTokenSecret: this.synapse.adminBotTokenSecret,
      agentUserId: this.shared.machineAccount.userSub,
      deploySteps: {
        migrations: this.hasuraLite.migrations,
        hasuraMetadata: this.hasuraLite.hasura.metadata.resource,
        machineAccount: this.shared.machineAccount.resource,
        // The whole construct: on a created pool the triggers are the pool's own LambdaConfig plus the
        // invoke permissions; on an imported pool, the deploy step that attaches them.
        userPoolTriggers: this.shared.triggers,
        synapseBootstrap: this.synapse.bootstrap.resource,
      },
    });
    // Issue #15: one database role per client, made after the migrations and before any client
    // starts, and again once the Hasura metadata step has made Hasura's event log.
    this.databaseRoles = new ChatDatabaseRoles(this, 'ChatDatabaseRoles', {
      ...chatFunctionCommonProps(config),
      ...chatFunctionVpcProps(this.platform),
      database: chatDatabase(this.platform),
      clientRoleSecrets: this.platform.clientRoles.secrets,
    });
    this.platform.clientRoles.rotateAfter(this.databaseRoles.rolesStep);
    this.databaseRoles.order({
      schema: this.hasuraLite.migrations,
      hasuraMetadata: this.hasuraLite.hasura.metadata.resource,
      clients: [
        ...(this.hasuraLite.hasura.engine ? [this.hasuraLite.hasura.engine.service] : []),
        this.linkPreview.function.function,
        this.shared.triggers.userProvisioner.function,
        this.membershipReconciler.handler.function,
        this.mcpServer.service,
      ],
    });

    // Hasura reads its database URL, Synapse (main process and workers) its database password, only at
    // start: each restarts after its secret rotates (an adopted Synapse database keeps its own, unrotated secret).
    const restarts: RotationRestart[] = [
      ...(this.hasuraLite.hasura.engine ? [{ secret: this.platform.clientRoles.secrets.hasura, services: [this.hasuraLite.hasura.engine.service] }] : []),
      ...(this.synapse.databaseRotation
        ? [{ secret: this.synapse.secrets.database, services: [this.synapse.synapse.service, ...[...(this.synapse.workers?.workers.values() ?? [])].map((w) => w.service)] }]
        : []),
    ];
    if (restarts.length > 0) new RestartOnRotation(this, 'RotationRestart', { ...chatFunctionCommonProps(config), cluster: this.platform.cluster, restarts });

    // Only the selected backend lets the MCP tasks in (the postgres backend's RDS rule is ChatMcpServer's own).
    if (config.mcp.backendType === 'hasura') this.hasuraLite.hasura.engine?.allowFrom(this.mcpServer, 'MCP server (GraphQL as the agent)');
    if (config.mcp.backendType === 'synapse') this.synapse.allowFrom(this.mcpServer, 'MCP server (Matrix client API as the bot)');

    // Issue #18: the A/B collector, its reader roles, and the dashboard's A/B section (added once the
    // operations construct, which must see these functions to alarm on them, owns the dashboard).
    this.abEvaluation = new AbEvaluation(this, 'AbEvaluation', {
      ...chatFunctionCommonProps(config),
      ...chatFunctionVpcProps(this.platform),
      database: chatDatabase(this.platform),
      // The setup step's own answer: the collector's step waits for Synapse's database to exist.
      synapseDatabaseName: this.synapse.databaseSetup.resource.resource.getAttString('DatabaseName'),
      synapseDatabaseSecret: this.synapse.secrets.database,
      synapseDatabaseRole: this.synapse.secrets.databaseRole,
      environment: config.prefix,
      matrixServerName: config.matrixServerName,
      // Synapse healthy (its tables exist) and the chat tables migrated; a new Synapse task re-runs the step.
      readerDependencies: [this.synapse.bootstrap.resource, this.hasuraLite.migrations],
      readerTriggers: { SynapseTaskDefinitionArn: this.synapse.synapse.taskDefinition.taskDefinitionArn },
      mcpServer: { logGroup: this.mcpServer.logGroup, backend: config.mcp.backendType === 'synapse' ? 'matrix' : 'hasura-lite' },
      hasuraLogGroup: this.hasuraLite.hasura.engine ? (this.hasuraLite.hasura.engine.node.findChild(CHAT_FARGATE_SERVICE_ID) as ChatFargateService).logGroup : undefined,
      linkPreviewLogGroup: this.linkPreview.function.logGroup,
    });

    // --- operations: alarms, dashboard, WAF, history purge, saved queries (last: it watches everything above) ---
    const hasuraEngine = this.hasuraLite.hasura.engine;
    this.operations = new ChatOperations(this, 'ChatOperations', {
      ...chatOperationsPlatformProps(config, this.platform),
      services: [
        { name: 'synapse', service: this.synapse.synapse.service, targetGroup: this.synapse.synapse.targetGroup },
        ...[...(this.synapse.workers?.workers ?? [])].map(([name, w]) => ({ name: `synapse-${name}`, service: w.service, targetGroup: w.targetGroup })),
        { name: 'synapse-admin', service: this.synapse.adminUi.service, targetGroup: this.synapse.adminUi.targetGroup },
        { name: 'mcp-server', service: this.mcpServer.service, targetGroup: this.mcpServer.targetGroup, logGroup: this.mcpServer.logGroup },
        ...(hasuraEngine ? [{ name: 'hasura', service: hasuraEngine.service, targetGroup: hasuraEngine.targetGroup }] : []),
      ],
      functions: discoverChatFunctions(
        this,
        new Map([
          [this.hasuraLite.schema.function, { name: 'migrations' }],
          [this.hasuraLite.hasura.metadata.function, { name: 'hasura-metadata-apply' }],
          [this.shared.triggers.preTokenGeneration, { name: 'pre-token-generation' }],
          [this.shared.triggers.userProvisioner, { name: 'user-provisioner' }],
          [this.linkPreview.function, { name: 'link-preview' }],
        ]),
      ),
      linkPreview: { function: this.linkPreview.function.function, logGroup: this.linkPreview.function.logGroup },
      userProvisioner: { function: this.shared.triggers.userProvisioner.function },
      mcpServerLogGroup: this.mcpServer.logGroup,
      historyPurge: (scope, id) =>
        new SynapseHistoryPurge(scope, id, {
          ...synapseHistoryPurgePlatformProps(config, this.platform),
          synapseUrl: this.synapse.internalUrl,
          synapse: this.synapse.synapse.service,
          adminTokenSecret: this.synapse.adminBotTokenSecret,
          adminTokenSecretKey: ADMIN_BOT_TOKEN_SECRET_KEY,
        }),
      runbookOutputs: {
        SynapseInternalUrl: this.synapse.internalUrl,
        // The metadata-apply custom resource's properties, to re-run it by hand (docs/operations.md).
        HasuraMetadataApplyProperties: this.toJsonString(customResourceProperties(this.hasuraLite.hasura.metadata.resource.resource)),
      },
    });

    this.abEvaluation.addDashboardSection(this.operations.monitoring.dashboard);

    new CfnOutput(this, 'ChatUrl', { value: `https://${config.domainName}`, description: 'Public base URL of the chat system' });
    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: this.platform.loadBalancer.loadBalancer.loadBalancerDnsName,
      description: `Point the ${config.domainName} CNAME at this name`,
    });
    // The records someone creates by hand (docs/operations.md, "DNS records"; `npm run dns-records`).
    new CfnOutput(this, DNS_RECORD_OUTPUTS.cname, {
      value: cnameRecord(config.domainName, this.platform.loadBalancer.loadBalancer.loadBalancerDnsName),
      description: `Create this record at the DNS provider of ${config.domainName}`,
    });
    const wellKnown = matrixServerWellKnown(config);
    if (wellKnown) {
      new CfnOutput(this, DNS_RECORD_OUTPUTS.wellKnownUrl, { value: wellKnown.url, description: `Serve ${DNS_RECORD_OUTPUTS.wellKnownBody} here (federation delegation)` });
      new CfnOutput(this, DNS_RECORD_OUTPUTS.wellKnownBody, { value: wellKnown.body, description: `The JSON ${wellKnown.url} answers with` });
    }
    new CfnOutput(this, 'ClusterName', { value: this.platform.cluster.clusterName });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.platform.database.secret.secretArn });
    new CfnOutput(this, 'UserPoolId', { value: this.platform.userPool.userPool.userPoolId });
  }
}
