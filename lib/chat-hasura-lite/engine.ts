import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { acknowledgeNag } from '../nag';
import { POSTGRES_PORT } from '../platform';
import { scaleService } from '../operations/scaling';
import { SCALING_TARGETS } from '../operations/thresholds';
import { HASURA_LOGGING_ENV } from './engine-logging';
import { HASURA_METADATA_POOL_CONNECTIONS } from './pools';
import { HASURA_START_SCRIPT } from './engine-start-script';
import { hasuraJwtSecret } from './jwt';

/** The port Hasura GraphQL Engine listens on. */
export const HASURA_PORT = 8080;
/**
 * ALB rule priority of /v1/graphql. The seeds number rules by service (2xx Synapse,
 * 3xx MCP); 4xx is Hasura's block (contract C5), 400 its first rule, 401+ reserved.
 */
export const HASURA_RULE_PRIORITY = 400;
/** The only path the ALB forwards to Hasura: queries, mutations and graphql-ws subscriptions. */
export const HASURA_PUBLIC_PATH = '/v1/graphql';

/** What the event trigger needs from the link-preview construct (ChatLinkPreview satisfies it). */
export interface LinkPreviewWebhook {
  /** The webhook (Lambda function URL) the chat_messages insert trigger calls. */
  readonly webhookUrl: string;
  /** The shared secret Hasura sends in X-Phenom-Webhook-Secret. */
  readonly webhookSecret: secretsmanager.ISecret;
}

/** The engine's /healthz, probed by the container and the ALB alike; 60 s covers a cold start's schema cache build. */
export const HASURA_HEALTH_CHECK = { path: '/healthz', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 60 } as const;

export interface HasuraEngineProps extends ChatServiceCommonProps {
  /** CPU and memory of one task (`services.hasura`). */
  readonly taskSize: TaskSize;
  /**
   * Fewest tasks; the service scales out from here on CPU and ALB requests per target (the engine
   * is stateless: its metadata lives in the database).
   * @default 1
   */
  readonly minCount?: number;
  /**
   * Most tasks the service scales out to; the connection budget multiplies each task's pools by it.
   * @default - minCount (no scale-out)
   */
  readonly maxCount?: number;
  /** The pinned graphql-engine image (`hasura.image`), re-tagged into the CDK assets repository. */
  readonly image: string;
  /** The public domain: the GraphQL rule matches its host header, and it is the one CORS origin. */
  readonly domainName: string;
  /** The shared ALB's HTTPS listener: /v1/graphql is forwarded from it, and its SG is let in on 8080. */
  readonly listener: elbv2.IApplicationListener;
  /** The chat database the engine serves; its SG lets the engine in on 5432. */
  readonly database: rds.IDatabaseInstance;
  /** The database credentials (JSON with username and password). */
  readonly databaseSecret: secretsmanager.ISecret;
  /** The database holding the chat tables. */
  readonly databaseName: string;
  /** The user pool whose ID tokens the engine accepts (JWKS and issuer). */
  readonly userPool: cognito.IUserPool;
  /** The link-preview webhook that the chat_messages event trigger calls. */
  readonly linkPreview: LinkPreviewWebhook;
  /**
   * App client ids the ID token's `aud` must name (a token of another client of the pool gets
   * `invalid-jwt` "Could not verify JWT: JWTNotInAudience").
   * @default - the audience is not checked; issuer, signature and expiry still are
   */
  readonly jwtAudience?: readonly string[];
}

/**
 * Hasura GraphQL Engine v2 on Fargate (config.hasura.mode "create"), in the private
 * subnets, reachable at /v1/graphql through the ALB and, inside the VPC, at
 * `internalUrl` (Cloud Map) for the MCP server and the metadata applier.
 */
export class HasuraEngine extends Construct {
  public readonly service: ecs.FargateService;
  public readonly securityGroup: ec2.ISecurityGroup;
  /** Generated here; the engine reads it through ECS secrets, the applier at run time. */
  public readonly adminSecret: secretsmanager.Secret;
  /** http://engine.hasura.<prefix>.internal:8080: the engine's address inside the VPC. */
  public readonly internalUrl: string;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: HasuraEngineProps) {
    super(scope, id);
    const { prefix } = props;

    this.adminSecret = new secretsmanager.Secret(this, 'AdminSecret', {
      secretName: `${prefix}-hasura-admin-secret`,
      description: 'Hasura GraphQL Engine admin secret (HASURA_GRAPHQL_ADMIN_SECRET)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledgeNag(this.adminSecret, {
      id: 'AwsSolutions-SMG4',
      reason: 'The engine reads its admin secret only at task start; rotate it by updating the secret and forcing a new deployment of the Hasura service (the applier reads it fresh on every deploy).',
    });

    const fargate = new ChatFargateService(this, CHAT_FARGATE_SERVICE_ID, {
      // images.architecture: hasura/graphql-engine v2 images are published for linux/amd64 and linux/arm64.
      ...fargateCommonProps(props),
      namedLogGroup: false,
      serviceName: `${prefix}-hasura`,
      securityGroup: {
        securityGroupName: `${prefix}-hasura`,
        description: 'Hasura GraphQL Engine tasks',
        ingress: [...props.listener.connections.securityGroups.map((alb) => ({ peer: alb, port: ec2.Port.tcp(HASURA_PORT), description: 'GraphQL (/v1/graphql) from the ALB' }))],
        egress: [
          ...props.database.connections.securityGroups.map((db) => ({ peer: db, port: ec2.Port.tcp(POSTGRES_PORT), description: 'Chat database on RDS' })),
          { peer: ec2.Peer.anyIpv4(), port: ec2.Port.tcp(443), description: 'Cognito JWKS, the link-preview function URL, image pull, Secrets Manager, CloudWatch Logs' },
        ],
      },
      taskSize: props.taskSize,
      desiredCount: props.minCount ?? 1,
      containers: [
        {
          id: 'Engine',
          // docker/hasura re-tags the pinned engine image into the CDK assets repository (see its Dockerfile).
          image: { directory: 'hasura', buildArgs: { HASURA_IMAGE: props.image } },
          streamPrefix: 'hasura',
          // The image ships curl for its own Docker HEALTHCHECK.
          healthCheck: { ...HASURA_HEALTH_CHECK, command: `curl -fsS http://localhost:${HASURA_PORT}${HASURA_HEALTH_CHECK.path} || exit 1` },
          options: {
            containerName: 'hasura',
            // The URL is assembled at start from the injected credentials (engine-start-script.ts).
            entryPoint: ['/bin/sh', '-c'],
            command: [HASURA_START_SCRIPT],
            // The image's `hasura` user: the engine needs no root.
            user: '1001:1001',
            portMappings: [{ containerPort: HASURA_PORT, name: 'graphql' }],
            environment: {
              DB_HOST: props.database.dbInstanceEndpointAddress,
              DB_PORT: props.database.dbInstanceEndpointPort,
              DB_NAME: props.databaseName,
              HASURA_GRAPHQL_SERVER_PORT: String(HASURA_PORT),
              // The console and dev mode are off; the metadata API stays on for the applier, and
              // the ALB never forwards it. pgdump and config APIs are off.
              HASURA_GRAPHQL_ENABLE_CONSOLE: 'false',
              HASURA_GRAPHQL_DEV_MODE: 'false',
              HASURA_GRAPHQL_ENABLED_APIS: 'graphql,metadata',
              HASURA_GRAPHQL_ENABLE_TELEMETRY: 'false',
              // The metadata pool's size (pools.ts says what else the engine holds open); the budget reads it here.
              HASURA_GRAPHQL_PG_CONNECTIONS: String(HASURA_METADATA_POOL_CONNECTIONS),
              ...HASURA_LOGGING_ENV,
              // HASURA_GRAPHQL_UNAUTHORIZED_ROLE is deliberately unset: a request without a
              // valid Cognito token is refused, never served as an anonymous role.
              HASURA_GRAPHQL_JWT_SECRET: hasuraJwtSecret(props.userPool, props.jwtAudience),
              HASURA_GRAPHQL_CORS_DOMAIN: `https://${props.domainName}`,
              LINK_PREVIEW_WEBHOOK_URL: props.linkPreview.webhookUrl,
            },
            secrets: {
              HASURA_GRAPHQL_ADMIN_SECRET: ecs.Secret.fromSecretsManager(this.adminSecret),
              DB_USER: ecs.Secret.fromSecretsManager(props.databaseSecret, 'username'),
              DB_PASSWORD: ecs.Secret.fromSecretsManager(props.databaseSecret, 'password'),
              LINK_PREVIEW_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(props.linkPreview.webhookSecret),
            },
          },
        },
      ],
      target: { containerName: 'hasura', port: HASURA_PORT, healthCheck: HASURA_HEALTH_CHECK },
      healthCheckGracePeriod: Duration.seconds(90),
      discovery: { namespaceName: `hasura.${prefix}.internal`, description: 'Private DNS for the Hasura engine (MCP server, metadata applier)', name: 'engine' },
      // Exactly /v1/graphql (HTTP and the WebSocket upgrade for subscriptions, which the
      // ALB passes through natively). /v1/metadata, /v2/query, /v1/version and /console
      // match no rule and get the listener's 404.
      routes: { listener: props.listener, hostHeader: props.domainName, rules: [{ id: 'GraphqlRule', priority: HASURA_RULE_PRIORITY, paths: [HASURA_PUBLIC_PATH] }] },
      plainEnvironmentReason:
        'The plain environment holds only non-secret settings (DB host/port/name, feature flags, the public JWKS-based JWT config, the webhook URL); the admin secret, DB credentials and webhook secret come through ECS secrets.',
    });
    this.securityGroup = fargate.securityGroup;
    this.service = fargate.service;
    this.targetGroup = fargate.targetGroup;
    this.internalUrl = fargate.internalUrl!;
    // Targets and cooldowns, with their reasons, in thresholds.ts.
    const minCapacity = props.minCount ?? 1;
    scaleService(this.service, {
      minCapacity,
      maxCapacity: props.maxCount ?? minCapacity,
      cpu: SCALING_TARGETS.hasuraCpu,
      requests: { ...SCALING_TARGETS.hasuraRequests, targetGroup: this.targetGroup },
    });
    // The egress half is the SG's own rule above (with its own description); this adds the RDS SG's ingress.
    props.database.connections.allowFrom(this.securityGroup, ec2.Port.tcp(POSTGRES_PORT), 'PostgreSQL from Hasura GraphQL Engine');
  }

  /** Lets `peer` (e.g. the metadata applier Lambda) reach the engine on 8080. */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(HASURA_PORT), description);
  }
}
