import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import type { EdgeProvider } from '../../chat-domain/client-ip';
import { CHAT_CLIENT_SECRET_KEYS } from '../chat-shared/secret-keys';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { MCP_SERVER_PORT, POSTGRES_PORT } from '../platform';
import { scaleService } from '../operations/scaling';
import { SCALING_TARGETS } from '../operations/thresholds';
import { mcpServerNodeOptions } from './node-options';

/** Listener rule priorities (contract C5: 3xx for the MCP server). */
export const MCP_RULE_PRIORITIES = { mcp: 300, protectedResourceMetadata: 301, authorizationServerMetadata: 302 } as const;

/** Seed 000 "Health checks": MCP server /health every 30 s, 5 s timeout, 3 retries, 60 s start period. */
export const MCP_HEALTH_CHECK = { path: '/health', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 60 } as const;

/**
 * The server drains in-flight requests for SHUTDOWN_GRACE_MS (25 s) after SIGTERM. The ALB stops
 * routing new requests to a draining target at once and waits this long for open ones, and ECS
 * sends SIGKILL after the container's stop timeout: both 30 s, so the drain always completes.
 */
export const MCP_DRAIN = { shutdownGraceMs: 25_000, deregistrationDelaySeconds: 30, stopTimeoutSeconds: 30 } as const;

/**
 * Connections in one task's query pool (postgres backend); the server also holds one for /health
 * (docker/mcp-server/src/backend/postgres/index.ts). 10 is the server's own default: a 0.25 vCPU task
 * at ~1.3 ms of CPU per call never has more than a few queries in flight (bench:mcp).
 */
export const MCP_PG_POOL_MAX = 10;

/** One key of the chat-clients secret (contract C4) as an ECS secret. */
const clientSecretKey = (secret: secretsmanager.ISecret, key: keyof typeof CHAT_CLIENT_SECRET_KEYS): ecs.Secret => ecs.Secret.fromSecretsManager(secret, CHAT_CLIENT_SECRET_KEYS[key]);

/** The key of the admin bot's token in the Synapse team's bot-token secret (ChatSynapse ADMIN_BOT_TOKEN_SECRET_KEY). */
const DEFAULT_BOT_TOKEN_KEY = 'accessToken';

/**
 * The deploy-time steps (custom resources) the MCP server may need before its first task starts.
 * Only the selected backend's are used: the first `/health` of a task performs the agent's first
 * call to its backend (for the hasura backend, the machine account's first Cognito login), so a
 * task that started before them would fail its health checks and roll the deploy back.
 */
export interface McpDeploySteps {
  /** `Custom::ChatMigrations`: the chat tables (hasura and postgres backends). @default - no dependency */
  readonly migrations?: IDependable;
  /** The Hasura metadata apply: tracked tables and permissions (hasura backend). @default - no dependency */
  readonly hasuraMetadata?: IDependable;
  /** `Custom::ChatMachineAccount`: the agent's Cognito user and password (hasura and postgres backends). @default - no dependency */
  readonly machineAccount?: IDependable;
  /**
   * The Cognito triggers, attached to the pool: the agent's token carries Hasura claims only once the
   * pre-token trigger is attached, and its first login provisions its rooms (hasura backend).
   * @default - no dependency
   */
  readonly userPoolTriggers?: IDependable;
  /** The Synapse bootstrap: the bot's stored token and the rooms (synapse backend). @default - no dependency */
  readonly synapseBootstrap?: IDependable;
}

/** The store the MCP tools read and write through. */
export type McpBackendType = 'hasura' | 'synapse' | 'postgres';

/** Which deploy steps each backend needs before the service starts. */
export const MCP_BACKEND_DEPLOY_STEPS: Record<McpBackendType, readonly (keyof McpDeploySteps)[]> = {
  hasura: ['migrations', 'hasuraMetadata', 'machineAccount', 'userPoolTriggers'],
  synapse: ['synapseBootstrap'],
  postgres: ['migrations', 'machineAccount'],
};

/** The chat database, for the postgres backend. */
export interface McpDatabase {
  readonly instance: rds.IDatabaseInstance;
  /** The credentials (JSON with username and password). */
  readonly secret: secretsmanager.ISecret;
  /** The database holding the chat tables. */
  readonly databaseName: string;
}

export interface ChatMcpServerProps extends ChatServiceCommonProps {
  /** CPU and memory of one task (`services.mcpServer`); the Node heap limit follows the memory. */
  readonly taskSize: TaskSize;
  /** Tasks the service scales out to (from 1), on CPU and on requests per target. */
  readonly maxCount: number;
  /** The MCP server's own SG (3001 from the ALB); with the postgres backend, RDS lets this SG in. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The backend the tools use; only its settings and secrets reach the task. */
  readonly backendType: McpBackendType;
  /** What is in front of the ALB (`edge.provider`): whose address the access log records, as Synapse's edge proxy chooses it. */
  readonly edgeProvider: EdgeProvider;
  /** The public domain: the rules match its host header and the endpoint is https://<domainName>/mcp. */
  readonly domainName: string;
  /** The shared ALB's HTTPS listener. */
  readonly listener: elbv2.IApplicationListener;
  /** The user pool whose access tokens the server accepts. */
  readonly userPool: cognito.IUserPool;
  /** The pool's hosted-UI domain name: the authorization server the server's RFC 8414 metadata names. */
  readonly hostedUiDomain: string;
  /**
   * The Matrix server name, for the synapse backend's user ids.
   * @default - none; required when backendType is "synapse"
   */
  readonly matrixServerName?: string;
  /**
   * The chat database.
   * @default - none; required when backendType is "postgres"
   */
  readonly database?: McpDatabase;
  /**
   * The chat-clients secret (contract C4, `ChatShared.clientsSecret`): the inbound allow-list
   * (`mcpAgentClientId`) and, for the hasura backend, the agent's client and credentials.
   */
  readonly clientsSecret: secretsmanager.ISecret;
  /**
   * The public authorization code + PKCE app client people sign in through (`ChatShared.mcpInteractiveClient`):
   * its access tokens are accepted too.
   * @default - none; only the client_credentials agent client's tokens are accepted
   */
  readonly interactiveClient?: cognito.IUserPoolClient;
  /**
   * Hasura's GraphQL endpoint inside the VPC (`ChatHasuraLite.graphqlEndpoint`).
   * @default - none; required when backendType is "hasura"
   */
  readonly hasuraEndpoint?: string;
  /**
   * Synapse's URL inside the VPC (`ChatSynapse.internalUrl`).
   * @default - none; required when backendType is "synapse"
   */
  readonly synapseUrl?: string;
  /**
   * The admin bot's access-token secret (`ChatSynapse.adminBotTokenSecret`).
   * @default - none; required when backendType is "synapse"
   */
  readonly synapseBotTokenSecret?: secretsmanager.ISecret;
  /**
   * The JSON key of the token in `synapseBotTokenSecret`.
   * @default 'accessToken'
   */
  readonly synapseBotTokenSecretKey?: string;
  /**
   * The agent's users.id (`ChatShared.machineAccount.userSub`), which the postgres backend posts as.
   * @default - none; required when backendType is "postgres"
   */
  readonly agentUserId?: string;
  /**
   * The deploy-time steps the selected backend needs (see MCP_BACKEND_DEPLOY_STEPS); the service
   * starts only after each of them has completed.
   * @default - the service's start is not ordered after any deploy step
   */
  readonly deploySteps?: McpDeploySteps;
}

/**
 * The MCP server (seed 002 "chat-mcp-server"): one Fargate service behind the shared ALB at
 * /mcp, stateless so it scales out on CPU and on requests per target, with secrets only through
 * ECS `secrets` and a task role that holds no permissions at all (the backends reach Hasura,
 * Synapse or RDS over the network with credentials ECS injects).
 */
export class ChatMcpServer extends Construct {
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly logGroup: logs.LogGroup;
  /** The public MCP endpoint, https://<domain>/mcp. */
  public readonly url: string;
  /** The service's network identity, for peers that must let it in (Hasura, Synapse). */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: ChatMcpServerProps) {
    super(scope, id);
    const { backendType, prefix } = props;
    this.url = `https://${props.domainName}/mcp`;
    const backend = this.backendSettings(props);

    const hc = MCP_HEALTH_CHECK;
    // The ALB does not strip prefixes, and `/mcp/*` does not match `/mcp` itself: list both.
    // RFC 9728 metadata lives outside /mcp (/.well-known/oauth-protected-resource/<resource path>), and
    // RFC 8414 metadata is where clients look for it: at the origin named as authorization server (ours).
    const rules = [
      { id: 'McpRule', priority: MCP_RULE_PRIORITIES.mcp, paths: ['/mcp', '/mcp/*'] },
      { id: 'ProtectedResourceMetadataRule', priority: MCP_RULE_PRIORITIES.protectedResourceMetadata, paths: ['/.well-known/oauth-protected-resource/mcp'] },
      { id: 'AuthorizationServerMetadataRule', priority: MCP_RULE_PRIORITIES.authorizationServerMetadata, paths: ['/.well-known/oauth-authorization-server'] },
    ];
    const fargate = new ChatFargateService(this, CHAT_FARGATE_SERVICE_ID, {
      // images.architecture: the image is built FROM a multi-arch node base; Graviton (the default) is cheaper for the same work.
      ...fargateCommonProps(props),
      serviceName: `${prefix}-chat-mcp`,
      // Its own SG (3001 from the ALB, all outbound: seed 000's ECS tasks row), not shared with the Admin UI.
      securityGroup: props.securityGroup,
      taskSize: props.taskSize,
      containers: [
        {
          id: 'McpServer',
          // The repository root, because the server bundles chat-domain/ and chat-clients/; /.dockerignore keeps only what the image needs.
          image: { directory: 'mcp-server', repoRootContext: true },
          streamPrefix: 'mcp',
          healthCheck: { ...hc, command: `node -e "fetch('http://127.0.0.1:${MCP_SERVER_PORT}${hc.path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"` },
          options: {
            containerName: 'mcp-server',
            portMappings: [{ containerPort: MCP_SERVER_PORT, name: 'mcp' }],
            environment: {
              PORT: String(MCP_SERVER_PORT),
              HOST: '0.0.0.0',
              BACKEND_TYPE: backendType,
              EDGE_PROVIDER: props.edgeProvider,
              LOG_LEVEL: 'info',
              COGNITO_USER_POOL_ID: props.userPool.userPoolId,
              MCP_RESOURCE_URL: this.url,
              // The server publishes RFC 8414 metadata for the hosted UI (with PKCE S256, which Cognito's
              // own discovery document omits) and names itself as the authorization server.
              COGNITO_DOMAIN: props.hostedUiDomain,
              ...(props.interactiveClient ? { INTERACTIVE_CLIENT_IDS: props.interactiveClient.userPoolClientId } : {}),
              SHUTDOWN_GRACE_MS: String(MCP_DRAIN.shutdownGraceMs),
              // Heap limits from the task's memory (node-options.ts says why). Set here, not in the
              // Dockerfile's CMD, because this is where memoryMiB is configured: the limit follows it in
              // every environment, and the image stays one image for any size.
              NODE_OPTIONS: mcpServerNodeOptions(props.taskSize.memoryMiB),
              ...backend.environment,
            },
            secrets: {
              // Client ids are not secret, but they live in the C4 secret, which also works for an imported pool.
              ALLOWED_CLIENT_IDS: clientSecretKey(props.clientsSecret, 'mcpAgentClientId'),
              ...backend.secrets,
            },
            stopTimeout: Duration.seconds(MCP_DRAIN.stopTimeoutSeconds),
            readonlyRootFilesystem: true,
            essential: true,
          },
        },
      ],
      target: {
        containerName: 'mcp-server',
        port: MCP_SERVER_PORT,
        healthCheck: hc,
        deregistrationDelay: Duration.seconds(MCP_DRAIN.deregistrationDelaySeconds),
      },
      healthCheckGracePeriod: Duration.seconds(hc.startPeriodSeconds),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      routes: { listener: props.listener, hostHeader: props.domainName, rules },
      plainEnvironmentReason: 'The plain environment holds only non-secret settings (port, backend type, pool id, URLs); every credential arrives through ECS secrets from Secrets Manager.',
    });
    this.taskDefinition = fargate.taskDefinition;
    this.logGroup = fargate.logGroup;
    this.service = fargate.service;
    this.targetGroup = fargate.targetGroup;
    this.connections = this.service.connections;
    // Only the postgres backend connects to RDS; with the others the MCP server has no path to it.
    if (backendType === 'postgres') props.database!.instance.connections.allowFrom(props.securityGroup, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from the MCP server (postgres backend)');
    // The postgres backend reads its login from the secret while it runs (a rotated value reaches new connections without a restart).
    if (backendType === 'postgres') props.database!.secret.grantRead(this.taskDefinition.taskRole);
    for (const step of MCP_BACKEND_DEPLOY_STEPS[backendType]) {
      const dependable = props.deploySteps?.[step];
      if (dependable) this.service.node.addDependency(dependable);
    }

    // How an agent gets a token (README "Connecting an MCP client" has the commands around these).
    const tokenEndpoint = `https://${props.hostedUiDomain}/oauth2/token`;
    new CfnOutput(Stack.of(this), 'McpUrl', { value: this.url, description: 'MCP endpoint (Streamable HTTP, bearer token)' });
    new CfnOutput(Stack.of(this), 'McpTokenEndpoint', {
      value: tokenEndpoint,
      description: `Headless agents: curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials -d "scope=chat/read chat/moderate" ${tokenEndpoint} (id and secret: keys mcpAgentClientId/mcpAgentClientSecret of ${prefix}-chat-clients)`,
    });
    if (props.interactiveClient) {
      new CfnOutput(Stack.of(this), 'McpInteractiveClientId', {
        value: props.interactiveClient.userPoolClientId,
        description: 'Give this client id to an OAuth-capable MCP client (MCP Inspector, Claude Code --client-id … --callback-port 8787)',
      });
    }

    // Targets and cooldowns, with their reasons (the request target's arithmetic from bench:mcp), in thresholds.ts.
    scaleService(this.service, {
      minCapacity: 1,
      maxCapacity: props.maxCount,
      cpu: SCALING_TARGETS.mcpCpu,
      requests: { ...SCALING_TARGETS.mcpRequests, targetGroup: this.targetGroup },
    });
  }

  /** The selected backend's plain settings and secrets; the others' are not given to the task at all. */
  private backendSettings(props: ChatMcpServerProps): { environment: Record<string, string>; secrets: Record<string, ecs.Secret> } {
    const clientKey = (key: keyof typeof CHAT_CLIENT_SECRET_KEYS) => clientSecretKey(props.clientsSecret, key);
    switch (props.backendType) {
      case 'hasura':
        if (!props.hasuraEndpoint) throw new Error('ChatMcpServer: hasuraEndpoint must be set when mcp.backendType is "hasura" (pass ChatHasuraLite.graphqlEndpoint)');
        return {
          environment: { HASURA_ENDPOINT: props.hasuraEndpoint },
          secrets: {
            AGENT_CLIENT_ID: clientKey('agentClientId'),
            AGENT_CLIENT_SECRET: clientKey('agentClientSecret'),
            AGENT_USERNAME: clientKey('agentUsername'),
            AGENT_PASSWORD: clientKey('agentPassword'),
          },
        };
      case 'synapse':
        if (!props.synapseUrl || !props.synapseBotTokenSecret) {
          throw new Error('ChatMcpServer: synapseUrl and synapseBotTokenSecret must be set when mcp.backendType is "synapse" (pass ChatSynapse.internalUrl and adminBotTokenSecret)');
        }
        if (!props.matrixServerName) throw new Error('ChatMcpServer: matrixServerName must be set when mcp.backendType is "synapse"');
        return {
          environment: { SYNAPSE_URL: props.synapseUrl, MATRIX_SERVER_NAME: props.matrixServerName },
          secrets: { SYNAPSE_BOT_ACCESS_TOKEN: ecs.Secret.fromSecretsManager(props.synapseBotTokenSecret, props.synapseBotTokenSecretKey ?? DEFAULT_BOT_TOKEN_KEY) },
        };
      case 'postgres': {
        if (!props.agentUserId) throw new Error('ChatMcpServer: agentUserId must be set when mcp.backendType is "postgres" (pass ChatShared.machineAccount.userSub)');
        const db = props.database;
        if (!db) throw new Error('ChatMcpServer: database must be set when mcp.backendType is "postgres" (pass the chat database instance, secret and name)');
        return {
          // Where the database is comes from the instance (an imported secret may hold only the credentials);
          // TLS is verified against the RDS CA bundle the image ships. The login is read from the secret at
          // run time, not injected: an injected value stays the old one after Secrets Manager rotates it.
          environment: {
            AGENT_USER_ID: props.agentUserId,
            DB_HOST: db.instance.dbInstanceEndpointAddress,
            DB_PORT: db.instance.dbInstanceEndpointPort,
            DB_NAME: db.databaseName,
            DB_SECRET_ARN: db.secret.secretArn,
            // Set here, not left to the server's default, so the connection budget reads it from the template.
            PG_POOL_MAX: String(MCP_PG_POOL_MAX),
          },
          secrets: {},
        };
      }
    }
  }
}
