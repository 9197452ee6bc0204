import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ChatHasuraLiteProps, LinkPreviewWebhook } from './chat-hasura-lite';
import type { ChatLinkPreviewProps } from './chat-link-preview';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { type ChatConfig, postgresEngineVersion } from './config';
import type { ChatMcpServerProps } from './chat-mcp-server';
import type { ChatSynapseProps } from './chat-synapse';
import type { ChatServiceCommonProps } from './constructs/chat-fargate-service';
import { importSecret } from './constructs/imported-secret';
import type { SynapseHistoryPurgeProps } from './operations/synapse-history-purge';
import type { ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps } from './constructs/chat-function';
import type { ChatSharedProps } from './chat-shared';
import type { ChatMembershipReconcilerProps } from './chat-shared/membership-reconciler';
import type { ChatOperationsProps } from './operations';
import type { Platform, PlatformProps } from './platform';
import type { DeletionProtectionProps } from './platform/deletion-protection';
import { protectionPlan } from './platform/protection-plan';
import type { ClientRoleName } from '../chat-domain/client-roles';
import { CF_CONNECTING_IP_HEADER } from '../chat-domain/client-ip';

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
    securityGroup: platform.securityGroups.mcpServer,
    backendType: config.mcp.backendType,
    edgeProvider: config.edge.provider,
    domainName: config.domainName,
    listener: platform.listener,
    userPool: platform.userPool.userPool,
    hostedUiDomain: platform.userPool.hostedUiDomain,
    matrixServerName: config.matrixServerName,
    database: { instance: platform.database.instance, secret: platform.clientRoles.secrets.mcp, databaseName: platform.database.databaseName },
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

/** What ChatShared takes: the pool it adds to, the names and the provisioner's database. */
export function chatSharedProps(config: ChatConfig, platform: Platform): ChatSharedProps {
  return {
    ...chatFunctionCommonProps(config),
    ...chatFunctionVpcProps(platform),
    database: chatDatabase(platform, 'provisioner'),
    userPool: platform.userPool.userPool,
    domainName: config.domainName,
  };
}

/**
 * The chat database as a function connects to it: as `client`'s role (issue #15), or as the master
 * user, which only the deploy steps that make the schema, the roles and Synapse's database use.
 */
export function chatDatabase(platform: Platform, client?: ClientRoleName): ChatFunctionDatabase {
  return client ? platform.clientRoles.databases[client] : platform.database;
}

/** The platform's parts, each created or imported as the config says. */
export function platformProps(config: ChatConfig): PlatformProps {
  const logRetention = config.monitoring.logRetentionDays as logs.RetentionDays;
  const { network: net, loadBalancer: lb, cluster, database: db, userPool: pool, certificate: cert } = config;
  return {
    prefix: config.prefix,
    network:
      net.mode === 'import'
        ? {
            existingVpc: {
              vpcId: net.vpcId,
              availabilityZones: net.availabilityZones,
              publicSubnetIds: net.publicSubnetIds,
              privateSubnetIds: net.privateSubnetIds,
              isolatedSubnetIds: net.isolatedSubnetIds,
            },
          }
        : { cidr: net.cidr, natGateways: net.natGateways, flowLogRetention: logRetention, retainFlowLogs: config.production },
    loadBalancer:
      lb.mode === 'import'
        ? { existing: { loadBalancerArn: lb.loadBalancerArn, listenerArn: lb.listenerArn, securityGroupId: lb.securityGroupId, dnsName: lb.dnsName, canonicalHostedZoneId: lb.canonicalHostedZoneId } }
        : {
            prefix: config.prefix,
            domainName: config.domainName,
            certificate:
              cert.mode === 'import' ? { certificateArn: cert.arn } : { hostedZone: cert.validation === 'route53' ? { hostedZoneId: cert.hostedZoneId!, zoneName: cert.hostedZoneName! } : undefined },
            allowedCidrs: config.edge.allowedCidrs,
            accessLogsExpiration: Duration.days(config.production ? 365 : 30),
            retainAccessLogs: config.production,
            deletionProtection: protectionPlan(config).loadBalancer,
          },
    cluster: cluster.mode === 'import' ? { clusterName: cluster.clusterName, existing: true } : { clusterName: `${config.prefix}-cluster` },
    database:
      db.mode === 'import'
        ? {
            engineVersion: postgresEngineVersion(db.engineVersion),
            existing: { endpoint: db.endpoint, port: db.port, instanceIdentifier: db.instanceIdentifier, securityGroupId: db.securityGroupId, secretArn: db.secretArn, databaseName: db.databaseName },
          }
        : {
            engineVersion: postgresEngineVersion(db.engineVersion),
            prefix: config.prefix,
            instanceType: rdsInstanceType(db.instanceClass),
            multiAz: db.multiAz,
            allocatedStorageGiB: db.allocatedStorageGiB,
            maxAllocatedStorageGiB: db.maxAllocatedStorageGiB,
            backupRetention: Duration.days(db.backupRetentionDays),
            deletionProtection: db.deletionProtection,
            snapshotOnDelete: config.production,
            logRetention,
          },
    userPool:
      pool.mode === 'import'
        ? { existing: { userPoolId: pool.userPoolId, domain: pool.domain } }
        : { prefix: config.prefix, domainPrefix: pool.domainPrefix, email: pool.email, deletionProtection: pool.deletionProtection, retain: config.production },
  };
}

/** `db.m5.large` as the instance type RDS renders back as that class. */
function rdsInstanceType(instanceClass: string): ec2.InstanceType {
  const [family, size] = instanceClass.replace(/^db\./, '').split('.');
  return ec2.InstanceType.of(family as ec2.InstanceClass, size as ec2.InstanceSize);
}

/** The protections the deletion-protection steps switch on after creation (protection-plan.ts). */
export function deletionProtectionProps(config: ChatConfig, platform: Platform): DeletionProtectionProps {
  const plan = protectionPlan(config);
  return {
    ...chatFunctionCommonProps(config),
    database: plan.database ? platform.database.instance : undefined,
    loadBalancer: plan.loadBalancer ? platform.loadBalancer.loadBalancer : undefined,
    terminationProtection: plan.terminationProtection,
  };
}

/** The reconciler's pool, functions and database; the stack adds the Synapse side and the OIDC client. */
export function chatMembershipReconcilerPlatformProps(config: ChatConfig, platform: Platform): Omit<ChatMembershipReconcilerProps, 'synapse' | 'synapseOidcClient'> {
  return { ...chatFunctionCommonProps(config), ...chatFunctionVpcProps(platform), database: chatDatabase(platform, 'provisioner'), userPool: platform.userPool.userPool };
}

/** What ChatOperations watches and names from the config and the platform; the stack adds the services, functions and history purge. */
export function chatOperationsPlatformProps(
  config: ChatConfig,
  platform: Platform,
): Omit<ChatOperationsProps, 'services' | 'functions' | 'linkPreview' | 'userProvisioner' | 'mcpServerLogGroup' | 'historyPurge' | 'runbookOutputs'> {
  const db = config.database;
  return {
    prefix: config.prefix,
    envName: config.envName,
    domainName: config.domainName,
    logRetention: config.monitoring.logRetentionDays as logs.RetentionDays,
    retainLogs: config.production,
    alarmEmail: config.monitoring.alarmEmail,
    // The platform's ALB, or the imported one.
    loadBalancer: platform.loadBalancer.loadBalancer,
    cluster: platform.cluster,
    waf: config.waf.enabled ? { ratePerIpPer5Min: config.waf.ratePerIpPer5Min, clientIpHeader: config.edge.provider === 'cloudflare' ? CF_CONNECTING_IP_HEADER : undefined } : undefined,
    database: platform.database.instance,
    databaseInstanceClass: db.mode === 'create' ? db.instanceClass : undefined,
    databaseAllocatedStorageGiB: db.mode === 'create' ? db.allocatedStorageGiB : undefined,
  };
}

/** The link-preview webhook's props; a configured Phenom credentials secret is imported into `scope`. */
export function chatLinkPreviewProps(scope: Construct, config: ChatConfig, platform: Platform): ChatLinkPreviewProps {
  const settings = config.linkPreview;
  return {
    ...chatFunctionCommonProps(config),
    ...chatFunctionVpcProps(platform),
    database: chatDatabase(platform, 'link_preview'),
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
export function chatHasuraLiteProps(scope: Construct, config: ChatConfig, platform: Platform, linkPreview: LinkPreviewWebhook, hasuraClients: readonly cognito.IUserPoolClient[]): ChatHasuraLiteProps {
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
            minCount: hasura.minCount,
            maxCount: hasura.maxCount,
            image: hasura.image,
            domainName: config.domainName,
            listener: platform.listener,
            database: database.instance,
            databaseSecret: platform.clientRoles.secrets.hasura,
            databaseName: database.databaseName,
            userPool: platform.userPool.userPool,
            // An ID token's `aud` is its app client: only these clients' tokens open a Hasura session.
            jwtAudience: hasuraClients.map((c) => c.userPoolClientId),
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
    adminUiSecurityGroup: platform.securityGroups.adminUi,
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
    workers: synapse.workers.enabled
      ? {
          genericMinCount: synapse.workers.generic.minCount,
          genericMaxCount: synapse.workers.generic.maxCount,
          federationSenders: synapse.workers.federationSenders,
          mediaRepository: synapse.workers.mediaRepository,
          eventPersisters: synapse.workers.eventPersisters,
          redisNodeType: synapse.workers.redis.nodeType,
          redisReplicas: synapse.workers.redis.replicas,
        }
      : undefined,
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
