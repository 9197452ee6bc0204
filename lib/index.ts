// The constructs of the chat system, for a CDK app that composes them itself (PhenomChatStack is one such app).
export { PhenomChatStack } from './phenom-chat-stack';
export type { PhenomChatStackProps } from './phenom-chat-stack';
export {
  chatHasuraLiteProps,
  chatLinkPreviewProps,
  chatMcpServerPlatformProps,
  chatMembershipReconcilerPlatformProps,
  chatOperationsPlatformProps,
  chatServiceCommonProps,
  chatSharedProps,
  chatSynapseProps,
  deletionProtectionProps,
  platformProps,
  synapseHistoryPurgePlatformProps,
} from './construct-props';

export { Platform } from './platform';
export type {
  ClusterProps,
  CreatedDatabaseProps,
  CreatedLoadBalancerProps,
  CreatedNetworkProps,
  CreatedUserPoolProps,
  DatabaseProps,
  ImportedDatabaseProps,
  ImportedLoadBalancerProps,
  ImportedNetworkProps,
  ImportedUserPoolProps,
  LoadBalancerCertificate,
  LoadBalancerProps,
  NetworkProps,
  PlatformProps,
  UserPoolEmailProps,
  UserPoolProps,
  WithoutVpc,
} from './platform';
export { ChatSecurityGroups } from './platform/security-groups';
export { Network } from './platform/network';
export { Cluster } from './platform/cluster';
export { Database } from './platform/database';
export { LoadBalancer } from './platform/load-balancer';
export { ChatUserPool } from './platform/user-pool';
export { DeletionProtection } from './platform/deletion-protection';
export type { DeletionProtectionProps } from './platform/deletion-protection';

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
export type { ChatDatabaseClientProps, ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionProps, ChatFunctionVpcProps } from './constructs/chat-function';
export { ChatCustomResource } from './constructs/chat-custom-resource';

export { ChatShared } from './chat-shared';
export type { ChatSharedProps } from './chat-shared';
export { ChatAppClients } from './chat-shared/app-clients';
export type { ChatAppClientsProps } from './chat-shared/app-clients';
export { CognitoTriggers } from './chat-shared/cognito-triggers';
export type { CognitoTriggersProps } from './chat-shared/cognito-triggers';
export { MachineAccount } from './chat-shared/machine-account';
export type { MachineAccountProps } from './chat-shared/machine-account';
export { ChatMembershipReconciler } from './chat-shared/membership-reconciler';
export type { ChatMembershipReconcilerProps } from './chat-shared/membership-reconciler';
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
export { ChatAlarmTopic, ChatLogQueries, ChatMonitoring, ChatOperations, ChatWaf, discoverChatFunctions } from './operations';
export type { ChatOperationsProps, MonitoredFunction, MonitoredService, PowertoolsMetricsSource } from './operations';
export type { ChatAlarmTopicProps } from './operations/alarm-topic';
export type { ChatLogQueriesProps } from './operations/queries';
export type { ChatMonitoringProps } from './operations/monitoring';
export type { ChatWafProps } from './operations/waf';
export { SynapseHistoryPurge } from './operations/synapse-history-purge';
export type { SynapseHistoryPurgeProps } from './operations/synapse-history-purge';
export { AbEvaluation, AbCollector, AbDashboardSection, AB_READER_ROLES } from './ab-evaluation';
export type { AbEvaluationProps, AbCollectorProps, AbDashboardSectionProps } from './ab-evaluation';
