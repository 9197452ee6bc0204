// The constructs of the chat system, for a CDK app that composes them itself (PhenomChatStack is one such app).
export { PhenomChatStack } from './phenom-chat-stack';
export type { PhenomChatStackProps } from './phenom-chat-stack';
export { chatHasuraLiteProps, chatLinkPreviewProps, chatMcpServerPlatformProps, chatServiceCommonProps, chatSynapseProps, synapseHistoryPurgePlatformProps } from './construct-props';

export { Platform } from './platform';
export { ChatSecurityGroups } from './platform/security-groups';
export { Network } from './platform/network';
export { Cluster } from './platform/cluster';
export { Database } from './platform/database';
export { LoadBalancer } from './platform/load-balancer';
export { ChatUserPool } from './platform/user-pool';
export { DeletionProtection } from './platform/deletion-protection';

export { ChatFargateService, CHAT_FARGATE_SERVICE_ID } from './constructs/chat-fargate-service';
export type {
  ChatContainerProps,
  ChatFargateServiceProps,
  ChatServiceCommonProps,
  ChatServiceDiscovery,
  ChatServiceRoutes,
  HealthCheckTiming,
  HttpHealthCheck,
  OwnSecurityGroupProps,
  SecurityGroupRule,
  TaskSize,
} from './constructs/chat-fargate-service';
export { ChatFunction } from './constructs/chat-function';
export type { ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionProps, ChatFunctionVpcProps } from './constructs/chat-function';
export { ChatCustomResource } from './constructs/chat-custom-resource';

export { ChatShared } from './chat-shared';
export { ChatMembershipReconciler } from './chat-shared/membership-reconciler';
export { ChatLinkPreview } from './chat-link-preview';
export type { ChatLinkPreviewProps } from './chat-link-preview';
export { ChatHasuraLite, ChatHasura, ChatMigrations, HasuraEngine, HasuraMetadataApply } from './chat-hasura-lite';
export type { ChatHasuraLiteProps, ChatHasuraProps, ChatMigrationsProps, ExistingHasuraEngine, HasuraMetadataApplyProps, LinkPreviewWebhook } from './chat-hasura-lite';
export type { HasuraEngineProps } from './chat-hasura-lite/engine';
export { ChatSynapse, SynapseBootstrap, SynapseDatabaseSetup } from './chat-synapse';
export type { AdoptedSynapseDatabase, ChatSynapseProps, SynapseBootstrapProps, SynapseDatabaseSetupProps } from './chat-synapse';
export { SynapseService } from './chat-synapse/synapse-service';
export type { SynapseServiceProps } from './chat-synapse/synapse-service';
export { SynapseAdminUi } from './chat-synapse/admin-ui-service';
export type { SynapseAdminUiProps } from './chat-synapse/admin-ui-service';
export { SynapseRoutes } from './chat-synapse/alb-rules';
export { ChatMcpServer } from './chat-mcp-server';
export type { ChatMcpServerProps, McpBackendType, McpDatabase, McpDeploySteps } from './chat-mcp-server';
export { ChatOperations } from './operations';
export { SynapseHistoryPurge } from './operations/synapse-history-purge';
export type { SynapseHistoryPurgeProps } from './operations/synapse-history-purge';
