import { CfnElement, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CHAT_CLIENT_SECRET_KEYS } from '../chat-shared/secret-keys';
import { ChatContainerProps, ChatFargateService } from '../constructs/chat-fargate-service';
import { acknowledgeNag } from '../nag';
import { HOMESERVER_PLAIN_ENV, HOMESERVER_SECRET_ENV, SYNAPSE_CONFIG_YAML_ENV, SYNAPSE_INTERNAL_PORT, SYNAPSE_LISTENER_PORT } from './homeserver-config';
import { SynapseSecrets } from './secrets';
import { IConstruct } from 'constructs';

/** The logical id of a resource's CloudFormation resource, as cdk-nag names it in finding ids. */
export function logicalIdOf(construct: IConstruct): string {
  const cfn = construct.node.defaultChild as CfnElement;
  return Stack.of(construct).resolve(Stack.of(construct).getLogicalId(cfn)) as string;
}

/** The task's way in (docker/synapse-edge): the ALB target and the Cloud Map name point at it. */
export const SYNAPSE_EDGE_CONTAINER = 'synapse-edge';

/** Seed 000 "Health checks": Synapse /health every 30 s, 5 s timeout, 3 retries, 60 s start period. */
export const SYNAPSE_HEALTH_CHECK = { path: '/health', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 60 } as const;

/** What every Synapse process (the main one and each worker) reads: the same database, users, secrets and media. */
export interface SynapseProcessWiring {
  /** The RDS instance holding Synapse's database (host and port). */
  readonly database: rds.IDatabaseInstance;
  /** The user pool Synapse signs users in with over OIDC. */
  readonly userPool: cognito.IUserPool;
  readonly secrets: SynapseSecrets;
  /** The chat-clients secret (contract C4): the Synapse OIDC client id and secret. */
  readonly clientsSecret: secretsmanager.ISecret;
  /** The media store (synapse-s3-storage-provider). */
  readonly mediaBucket: s3.IBucket;
  /** What is in front of the ALB, which decides whose client address the edge proxy believes. */
  readonly edgeProvider: string;
  /** The AWS region (of the user pool and the bucket). */
  readonly region: string;
}

/** What differs between one Synapse process and another: its config and what it alone needs. */
export interface SynapseProcessRole {
  /** The rendered YAML (placeholders only, no secrets). */
  readonly configYaml: string;
  /** @default - none beyond the shared ones */
  readonly environment?: Record<string, string>;
  /** @default - none beyond the shared ones */
  readonly secrets?: Record<string, ecs.Secret>;
  /** Ports other tasks reach Synapse itself on (a replication listener), besides the edge's 8008. @default - none */
  readonly portMappings?: ecs.PortMapping[];
  /** @default - ECS's default (30 s on Fargate) */
  readonly stopTimeout?: ecs.ContainerDefinitionOptions['stopTimeout'];
  /**
   * Whether the ALB sends it requests, through the edge proxy. A process no request reaches (a federation
   * sender, an event persister) runs Synapse alone and answers only its container health check.
   * @default true
   */
  readonly servesClients?: boolean;
}

/**
 * The two containers of a Synapse task: Synapse (the wrapper image, docker/synapse) and the edge proxy
 * (docker/synapse-edge) in front of it. The main process and every worker run this pair; only the
 * config, extra environment and ports differ.
 */
export function synapseContainers(w: SynapseProcessWiring, role: SynapseProcessRole): ChatContainerProps[] {
  const s = HOMESERVER_SECRET_ENV;
  const p = HOMESERVER_PLAIN_ENV;
  const { secrets } = w;
  const synapse: ChatContainerProps = {
    id: 'Synapse',
    // Built from docker/synapse at deploy time (synth only stages the two small files there).
    image: { directory: 'synapse' },
    streamPrefix: 'synapse',
    healthCheck: { ...SYNAPSE_HEALTH_CHECK, command: `curl -fSs http://127.0.0.1:${SYNAPSE_INTERNAL_PORT}${SYNAPSE_HEALTH_CHECK.path} || exit 1` },
    options: {
      containerName: 'synapse',
      // No port mapping for the client listener: Synapse listens on the task's loopback only; the edge container is the way in.
      ...(role.portMappings ? { portMappings: role.portMappings } : {}),
      ...(role.stopTimeout ? { stopTimeout: role.stopTimeout } : {}),
      environment: {
        [SYNAPSE_CONFIG_YAML_ENV]: role.configYaml,
        [p.databaseHost]: w.database.dbInstanceEndpointAddress,
        [p.databasePort]: w.database.dbInstanceEndpointPort,
        [p.mediaBucket]: w.mediaBucket.bucketName,
        [p.oidcIssuer]: `https://cognito-idp.${w.region}.amazonaws.com/${w.userPool.userPoolId}`,
        ...role.environment,
      },
      secrets: {
        [s.registrationSharedSecret]: ecs.Secret.fromSecretsManager(secrets.registrationSharedSecret),
        [s.macaroonSecretKey]: ecs.Secret.fromSecretsManager(secrets.macaroonSecretKey),
        [s.formSecret]: ecs.Secret.fromSecretsManager(secrets.formSecret),
        // Exactly one of the two: the entrypoint refuses a container that has both.
        [secrets.signingKey.kind === 'key' ? s.signingKey : s.signingKeySeed]: ecs.Secret.fromSecretsManager(secrets.signingKey.secret),
        [s.databaseUser]: ecs.Secret.fromSecretsManager(secrets.database, 'username'),
        [s.databasePassword]: ecs.Secret.fromSecretsManager(secrets.database, 'password'),
        [s.oidcClientId]: ecs.Secret.fromSecretsManager(w.clientsSecret, CHAT_CLIENT_SECRET_KEYS.synapseOidcClientId),
        [s.oidcClientSecret]: ecs.Secret.fromSecretsManager(w.clientsSecret, CHAT_CLIENT_SECRET_KEYS.synapseOidcClientSecret),
        ...role.secrets,
      },
    },
  };
  if (role.servesClients === false) return [synapse];
  return [
    synapse,
    {
      // The edge proxy (docker/synapse-edge): the task's port 8008 for the ALB and the in-VPC callers. It
      // hands Synapse one client address, the one the ALB saw (or Cloudflare's CF-Connecting-IP when the
      // ALB saw Cloudflare), because Synapse believes the leftmost X-Forwarded-For entry, which the client writes.
      id: 'Edge',
      image: { directory: 'synapse-edge' },
      streamPrefix: 'synapse-edge',
      healthCheck: {
        command: `wget -q -O /dev/null http://127.0.0.1:${SYNAPSE_LISTENER_PORT}/synapse-edge/health || exit 1`,
        intervalSeconds: 30,
        timeoutSeconds: 5,
        retries: 3,
        startPeriodSeconds: 10,
      },
      options: {
        containerName: SYNAPSE_EDGE_CONTAINER,
        portMappings: [{ containerPort: SYNAPSE_LISTENER_PORT, name: 'synapse' }],
        environment: { SYNAPSE_EDGE_PROVIDER: w.edgeProvider },
        // nginx needs a few MiB; the reservation keeps Synapse's share of the task's memory.
        memoryReservationMiB: 32,
      },
    },
  ];
}

/** The ALB target and container health of a Synapse task: the edge's 8008, on Synapse's /health. */
export const SYNAPSE_TARGET = { containerName: SYNAPSE_EDGE_CONTAINER, port: SYNAPSE_LISTENER_PORT, healthCheck: SYNAPSE_HEALTH_CHECK } as const;

export const SYNAPSE_PLAIN_ENVIRONMENT_REASON =
  'The plain environment holds only non-secret values: the homeserver.yaml with ${NAME} placeholders instead of secrets, the DB host/port, the bucket name and the OIDC issuer. Every secret comes through ECS secrets.';

/**
 * What a Synapse task needs once its containers exist: the edge starts after Synapse (and so stops
 * before it), and the task role reaches exactly the media objects synapse-s3-storage-provider uses.
 */
export function finishSynapseTask(fargate: ChatFargateService, mediaBucket: s3.IBucket): void {
  // Started after Synapse and stopped before it, so a draining task stops taking requests first.
  fargate.containers.Edge?.addContainerDependencies({ container: fargate.containers.Synapse!, condition: ecs.ContainerDependencyCondition.START });
  const taskDefinition = fargate.taskDefinition;
  // Exactly what synapse-s3-storage-provider calls (boto3 upload_file/download_fileobj, delete on purge).
  taskDefinition.addToTaskRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [mediaBucket.arnForObjects('*')],
    }),
  );
  taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [mediaBucket.bucketArn] }));

  acknowledgeNag(
    taskDefinition,
    {
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(mediaBucket)}.Arn>/*]`,
      reason: 'Synapse stores every media file as its own object in this bucket (and only this bucket), so the task role needs the objects of the bucket.',
    },
    {
      id: 'CloudFormation-Validate::E1029',
      reason:
        "The ${NAME} strings in SYNAPSE_CONFIG_YAML are placeholders for the image's entrypoint (docker/synapse/render-config.py), not CloudFormation parameters; CloudFormation leaves a plain string untouched.",
    },
  );
}
