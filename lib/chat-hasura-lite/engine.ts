import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { dockerAssetImage, fargateRuntimePlatform } from '../constructs/container-image';
import { acknowledgeNag } from '../nag';
import { Platform } from '../platform';
import { HASURA_START_SCRIPT } from './engine-start-script';
import { hasuraJwtSecret } from './jwt';
import { keepOnceCreated } from '../removal-policy';

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

export interface HasuraEngineProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
  /** The link-preview webhook that the chat_messages event trigger calls. */
  readonly linkPreview: LinkPreviewWebhook;
  /**
   * App client ids the ID token's `aud` must name.
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
  public readonly securityGroup: ec2.SecurityGroup;
  /** Generated here; the engine reads it through ECS secrets, the applier at run time. */
  public readonly adminSecret: secretsmanager.Secret;
  /** http://engine.hasura.<prefix>.internal:8080: the engine's address inside the VPC. */
  public readonly internalUrl: string;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: HasuraEngineProps) {
    super(scope, id);
    const { config, platform } = props;
    if (config.hasura.mode !== 'create') throw new Error('HasuraEngine is only created when config.hasura.mode is "create"');

    this.adminSecret = new secretsmanager.Secret(this, 'AdminSecret', {
      secretName: `${config.prefix}-hasura-admin-secret`,
      description: 'Hasura GraphQL Engine admin secret (HASURA_GRAPHQL_ADMIN_SECRET)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledgeNag(this.adminSecret, {
      id: 'AwsSolutions-SMG4',
      reason: 'The engine reads its admin secret only at task start; rotate it by updating the secret and forcing a new deployment of the Hasura service (the applier reads it fresh on every deploy).',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: platform.vpc,
      securityGroupName: `${config.prefix}-hasura`,
      description: 'Hasura GraphQL Engine tasks',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(platform.loadBalancer.securityGroup, ec2.Port.tcp(HASURA_PORT), 'GraphQL (/v1/graphql) from the ALB');
    this.securityGroup.addIngressRule(platform.securityGroups.ecsTasks, ec2.Port.tcp(HASURA_PORT), 'GraphQL from the MCP server (ECS tasks SG)');
    this.securityGroup.addEgressRule(platform.database.securityGroup, ec2.Port.tcp(5432), 'Chat database on RDS');
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'Cognito JWKS, the link-preview function URL, image pull, Secrets Manager, CloudWatch Logs',
    );
    platform.securityGroups.allowDatabaseFrom(this.securityGroup, 'Hasura GraphQL Engine');

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `${config.prefix}-hasura`,
      cpu: config.services.hasura.cpu,
      memoryLimitMiB: config.services.hasura.memoryMiB,
      // images.architecture: hasura/graphql-engine v2 images are published for linux/amd64 and linux/arm64.
      runtimePlatform: fargateRuntimePlatform(config),
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: config.monitoring.logRetentionDays as logs.RetentionDays,
      removalPolicy: keepOnceCreated(config),
    });

    const db = platform.database;
    taskDefinition.addContainer('Engine', {
      containerName: 'hasura',
      // docker/hasura re-tags the pinned engine image into the CDK assets repository (see its Dockerfile).
      image: dockerAssetImage(config, 'hasura', { buildArgs: { HASURA_IMAGE: config.hasura.image } }),
      // The URL is assembled at start from the injected credentials (engine-start-script.ts).
      entryPoint: ['/bin/sh', '-c'],
      command: [HASURA_START_SCRIPT],
      // The image's `hasura` user: the engine needs no root.
      user: '1001:1001',
      portMappings: [{ containerPort: HASURA_PORT, name: 'graphql' }],
      environment: {
        DB_HOST: db.instance.dbInstanceEndpointAddress,
        DB_PORT: db.instance.dbInstanceEndpointPort,
        DB_NAME: db.databaseName,
        HASURA_GRAPHQL_SERVER_PORT: String(HASURA_PORT),
        // The console and dev mode are off; the metadata API stays on for the applier, and
        // the ALB never forwards it. pgdump and config APIs are off.
        HASURA_GRAPHQL_ENABLE_CONSOLE: 'false',
        HASURA_GRAPHQL_DEV_MODE: 'false',
        HASURA_GRAPHQL_ENABLED_APIS: 'graphql,metadata',
        HASURA_GRAPHQL_ENABLE_TELEMETRY: 'false',
        // jwk-refresh-log says whether the JWKS will be refetched (see jwt.ts).
        HASURA_GRAPHQL_ENABLED_LOG_TYPES: 'startup,http-log,webhook-log,websocket-log,jwk-refresh-log',
        // HASURA_GRAPHQL_UNAUTHORIZED_ROLE is deliberately unset: a request without a
        // valid Cognito token is refused, never served as an anonymous role.
        HASURA_GRAPHQL_JWT_SECRET: hasuraJwtSecret(platform.userPool.userPool, props.jwtAudience),
        HASURA_GRAPHQL_CORS_DOMAIN: `https://${config.domainName}`,
        LINK_PREVIEW_WEBHOOK_URL: props.linkPreview.webhookUrl,
      },
      secrets: {
        HASURA_GRAPHQL_ADMIN_SECRET: ecs.Secret.fromSecretsManager(this.adminSecret),
        DB_USER: ecs.Secret.fromSecretsManager(db.secret, 'username'),
        DB_PASSWORD: ecs.Secret.fromSecretsManager(db.secret, 'password'),
        LINK_PREVIEW_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(props.linkPreview.webhookSecret),
      },
      healthCheck: {
        // The image ships curl for its own Docker HEALTHCHECK.
        command: ['CMD-SHELL', `curl -fsS http://localhost:${HASURA_PORT}/healthz || exit 1`],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        // Hasura builds its schema cache before it answers; 60 s covers a cold start.
        startPeriod: Duration.seconds(60),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'hasura' }),
    });

    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: `hasura.${config.prefix}.internal`,
      vpc: platform.vpc,
      description: 'Private DNS for the Hasura engine (MCP server, metadata applier)',
    });

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: `${config.prefix}-hasura`,
      cluster: platform.cluster,
      taskDefinition,
      // Two tasks in production so a deploy or an AZ loss never drops the GraphQL API.
      desiredCount: config.production ? 2 : 1,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      vpcSubnets: platform.privateSubnets,
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(90),
      cloudMapOptions: {
        cloudMapNamespace: namespace,
        name: 'engine',
        dnsRecordType: servicediscovery.DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      },
    });
    this.internalUrl = `http://engine.${namespace.namespaceName}:${HASURA_PORT}`;

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: platform.vpc,
      port: HASURA_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: '/healthz',
        healthyHttpCodes: '200',
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    this.service.attachToApplicationTargetGroup(this.targetGroup);

    // Exactly /v1/graphql (HTTP and the WebSocket upgrade for subscriptions, which the
    // ALB passes through natively). /v1/metadata, /v2/query, /v1/version and /console
    // match no rule and get the listener's 404.
    const rule = new elbv2.ApplicationListenerRule(this, 'GraphqlRule', {
      listener: platform.listener,
      priority: HASURA_RULE_PRIORITY,
      conditions: [elbv2.ListenerCondition.hostHeaders([config.domainName]), elbv2.ListenerCondition.pathPatterns([HASURA_PUBLIC_PATH])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });
    // ECS refuses a target group that no listener uses yet.
    this.service.node.addDependency(rule);

    acknowledgeNag(
      taskDefinition,
      {
        id: 'AwsSolutions-ECS2',
        reason:
          'The plain environment holds only non-secret settings (DB host/port/name, feature flags, the public JWKS-based JWT config, the webhook URL); the admin secret, DB credentials and webhook secret come through ECS secrets.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'The execution role pulls the image from the CDK asset repository: ecr:GetAuthorizationToken has no resource-level permissions.',
      },
    );
  }

  /** Lets `peer` (e.g. the metadata applier Lambda) reach the engine on 8080. */
  public allowFrom(peer: ec2.IConnectable, description: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(HASURA_PORT), description);
  }
}
