// The constructs of the chat system, for a CDK app that composes them itself (PhenomChatStack is one such app).
export { PhenomChatStack } from './phenom-chat-stack';
export type { PhenomChatStackProps } from './phenom-chat-stack';
export { chatMcpServerPlatformProps, chatServiceCommonProps } from './construct-props';

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
export { ChatCustomResource } from './constructs/chat-custom-resource';

export { ChatShared } from './chat-shared';
export { ChatMembershipReconciler } from './chat-shared/membership-reconciler';
export { ChatLinkPreview } from './chat-link-preview';
export { ChatHasuraLite, ChatHasura, ChatMigrations, HasuraEngine } from './chat-hasura-lite';
export type { HasuraEngineProps } from './chat-hasura-lite/engine';
export { ChatSynapse } from './chat-synapse';
export { SynapseService } from './chat-synapse/synapse-service';
export type { SynapseServiceProps } from './chat-synapse/synapse-service';
export { SynapseAdminUi } from './chat-synapse/admin-ui-service';
export type { SynapseAdminUiProps } from './chat-synapse/admin-ui-service';
export { SynapseRoutes } from './chat-synapse/alb-rules';
export { ChatMcpServer } from './chat-mcp-server';
export type { ChatMcpServerProps, McpBackendType, McpDatabase, McpDeploySteps } from './chat-mcp-server';
export { ChatOperations } from './operations';
export { AbEvaluation, AbCollector, AbDashboardSection, AB_READER_ROLES } from './ab-evaluation';
export type { AbEvaluationProps, AbCollectorProps, AbDashboardSectionProps } from './ab-evaluation';
