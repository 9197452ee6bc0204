import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ChatConfig } from './config';
import type { ChatHasuraLiteProps, LinkPreviewWebhook } from './chat-hasura-lite';
import type { ChatLinkPreviewProps } from './chat-link-preview';
import type { ChatMcpServerProps } from './chat-mcp-server';
import type { ChatSynapseProps } from './chat-synapse';
import type { ChatServiceCommonProps } from './constructs/chat-fargate-service';
import type { ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps } from './constructs/chat-function';
import { importSecret } from './constructs/imported-secret';
import type { SynapseHistoryPurgeProps } from './operations/synapse-history-purge';
import type { Platform } from './platform';

/**
 * The one mapping from the config (and the platform built from it) to the props the chat
 * constructs take, so that no construct below the stack needs ChatConfig to know where it runs.
 */
export function chatServiceCommonProps(config: ChatConfig, platform: Platform): ChatServiceCommonProps {
  return {
    cluster: platform.cluster,
    vpcSubnets: platform.privateSubnets,
    prefix: config.prefix,
    architecture: config.images.architecture,
    logRetention: config.monitoring.logRetentionDays as logs.RetentionDays,
    retainLogs: config.production,
  };
}

/** What the MCP server takes from the config and the platform; the stack adds the other constructs' outputs. */
export function chatMcpServerPlatformProps(
  config: ChatConfig,
  platform: Platform,
): Omit<ChatMcpServerProps, 'clientsSecret' | 'interactiveClient' | 'hasuraEndpoint' | 'synapseUrl' | 'synapseBotTokenSecret' | 'synapseBotTokenSecretKey' | 'agentUserId' | 'deploySteps'> {
  return {
    ...chatServiceCommonProps(config, platform),
    taskSize: config.services.mcpServer,
    maxCount: config.mcp.maxCount,
    securityGroup: platform.securityGroups.ecsTasks,
    backendType: config.mcp.backendType,
    domainName: config.domainName,
    listener: platform.listener,
    userPool: platform.userPool.userPool,
    hostedUiDomain: platform.userPool.hostedUiDomain,
    matrixServerName: config.matrixServerName,
    database: { instance: platform.database.instance, secret: platform.database.secret, databaseName: platform.database.databaseName },
  };
}

/** What every ChatFunction takes from the config. */
export function chatFunctionCommonProps(config: ChatConfig): ChatFunctionCommonProps {
  return { prefix: config.prefix, logRetention: config.monitoring.logRetentionDays as logs.RetentionDays, retainLogs: config.production };
}

/** A ChatFunction's place in the platform's VPC: its private subnets with egress. */
export function chatFunctionVpcProps(platform: Platform): ChatFunctionVpcProps {
  return { vpc: platform.vpc, vpcSubnets: platform.privateSubnets };
}

/** The chat database as a function connects to it. */
export function chatDatabase(platform: Platform): ChatFunctionDatabase {
  return { instance: platform.database.instance, secret: platform.database.secret, databaseName: platform.database.databaseName };
}

/** The link-preview webhook's props; a configured Phenom credentials secret is imported into `scope`. */
export function chatLinkPreviewProps(scope: Construct, config: ChatConfig, platform: Platform): ChatLinkPreviewProps {
  const settings = config.linkPreview;
  return {
    ...chatFunctionCommonProps(config),
    ...chatFunctionVpcProps(platform),
    database: chatDatabase(platform),
    phenomGraphqlUrl: settings.phenomGraphqlUrl,
    previewUrlTemplate: settings.previewUrlTemplate,
    cacheTtlHours: settings.cacheTtlHours,
    phenomCredentialsSecret: settings.phenomCredentialsSecretArn ? importSecret(scope, 'LinkPreviewPhenomCredentials', settings.phenomCredentialsSecretArn) : undefined,
  };
}

/**
 * Hasura Lite's props: the engine created on Fargate (hasura.mode "create") or the configured one,
 * whose admin secret is imported into `scope`.
 */
export function chatHasuraLiteProps(scope: Construct, config: ChatConfig, platform: Platform, linkPreview: LinkPreviewWebhook): ChatHasuraLiteProps {
  const hasura = config.hasura;
  const database = chatDatabase(platform);
  return {
    ...chatFunctionCommonProps(config),
    ...chatFunctionVpcProps(platform),
    database,
    // The whole database construct: the runner's ingress rule lives in its security group's scope.
    databaseReady: platform.database,
    ...(hasura.mode === 'create'
      ? {
          engine: {
            ...chatServiceCommonProps(config, platform),
            taskSize: config.services.hasura,
            // Two tasks in production so a deploy or an AZ loss never drops the GraphQL API.
            desiredCount: config.production ? 2 : 1,
            image: hasura.image,
            domainName: config.domainName,
            listener: platform.listener,
            ecsTasksSecurityGroup: platform.securityGroups.ecsTasks,
            database: database.instance,
            databaseSecret: database.secret,
            databaseName: database.databaseName,
            userPool: platform.userPool.userPool,
            linkPreview,
          },
        }
      : {
          existingEngine: {
            endpoint: hasura.endpoint,
            adminSecret: secretsmanager.Secret.fromSecretCompleteArn(scope, 'HasuraAdminSecret', hasura.adminSecretArn),
          },
        }),
  };
}

/**
 * Synapse's props. An adopted homeserver's signing key and database role (synapse.signingKeySecretArn,
 * synapse.database.mode "import") are imported into `scope`.
 */
export function chatSynapseProps(scope: Construct, config: ChatConfig, platform: Platform, clientsSecret: secretsmanager.ISecret): ChatSynapseProps {
  const { synapse } = config;
  return {
    ...chatServiceCommonProps(config, platform),
    vpc: platform.vpc,
    synapseSecurityGroup: platform.securityGroups.synapse,
    adminUiSecurityGroup: platform.securityGroups.ecsTasks,
    synapseTaskSize: config.services.synapse,
    adminUiTaskSize: config.services.synapseAdmin,
    matrixServerName: config.matrixServerName,
    domainName: config.domainName,
    historyRetentionDays: synapse.historyRetentionDays,
    edgeProvider: config.edge.provider,
    database: chatDatabase(platform),
    userPool: platform.userPool.userPool,
    userPoolDomain: platform.userPool.domain,
    listener: platform.listener,
    clientsSecret,
    adminApiAllowedCidrs: synapse.adminApiAllowedCidrs,
    adoptedDatabase:
      synapse.database.mode === 'import' ? { name: synapse.database.name, credentials: importSecret(scope, 'SynapseImportedDatabaseCredentials', synapse.database.secretArn) } : undefined,
    signingKeySecret: synapse.signingKeySecretArn ? importSecret(scope, 'SynapseImportedSigningKey', synapse.signingKeySecretArn) : undefined,
    retainMedia: config.production,
  };
}

/** What the history purge takes from the config and the platform; Synapse's address and token come from ChatSynapse. */
export function synapseHistoryPurgePlatformProps(
  config: ChatConfig,
  platform: Platform,
): Pick<SynapseHistoryPurgeProps, keyof ChatFunctionCommonProps | keyof ChatFunctionVpcProps | 'historyRetentionDays' | 'matrixServerName'> {
  return {
    ...chatFunctionCommonProps(config),
    ...chatFunctionVpcProps(platform),
    historyRetentionDays: config.synapse.historyRetentionDays,
    matrixServerName: config.matrixServerName,
  };
}
