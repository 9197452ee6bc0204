import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CHAT_FARGATE_SERVICE_ID, ChatFargateService, ChatServiceCommonProps, fargateCommonProps, TaskSize } from '../constructs/chat-fargate-service';
import { SYNAPSE_ADMIN_PORT } from '../platform';

export interface SynapseAdminUiProps extends ChatServiceCommonProps {
  /** Its own security group (80 from the ALB), which RDS does not admit. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** CPU and memory of the task (`services.synapseAdmin`). */
  readonly taskSize: TaskSize;
  /** The public domain; the UI is pinned to https://<domainName> as its homeserver. */
  readonly domainName: string;
}

/** Seed 000 "Health checks": Admin UI / every 30 s, 5 s timeout, 3 retries, 30 s start period. */
export const ADMIN_UI_HEALTH_CHECK = { path: '/', intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 30 } as const;

/** The public path of the Admin UI (the wrapper image serves the app under it; see docker/synapse-admin/Dockerfile). */
export const ADMIN_UI_BASE_PATH = '/chat-admin';

/**
 * Synapse Admin at https://<domain>/chat-admin/ on Fargate, in its own SG
 * (no path to RDS). It is a static app: the browser talks to Synapse's admin API
 * directly, so its reach is governed by the ALB's /_synapse/admin/* restriction.
 */
export class SynapseAdminUi extends Construct {
  public readonly service: ecs.FargateService;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: SynapseAdminUiProps) {
    super(scope, id);
    const fargate = new ChatFargateService(this, CHAT_FARGATE_SERVICE_ID, {
      ...fargateCommonProps(props),
      serviceName: `${props.prefix}-synapse-admin`,
      securityGroup: props.securityGroup,
      taskSize: props.taskSize,
      containers: [
        {
          id: 'AdminUi',
          // images.architecture: the synapse-admin image (nginx:alpine) is published for linux/amd64 and linux/arm64.
          image: { directory: 'synapse-admin' },
          streamPrefix: 'synapse-admin',
          healthCheck: { ...ADMIN_UI_HEALTH_CHECK, command: `wget -q -O /dev/null http://127.0.0.1:${SYNAPSE_ADMIN_PORT}${ADMIN_UI_HEALTH_CHECK.path} || exit 1` },
          options: {
            containerName: 'synapse-admin',
            portMappings: [{ containerPort: SYNAPSE_ADMIN_PORT, name: 'http' }],
            environment: { SYNAPSE_ADMIN_HOMESERVER_URL: `https://${props.domainName}` },
          },
        },
      ],
      // A static app: a few seconds are enough to finish the requests in flight.
      target: { containerName: 'synapse-admin', port: SYNAPSE_ADMIN_PORT, healthCheck: ADMIN_UI_HEALTH_CHECK, deregistrationDelay: Duration.seconds(10) },
      healthCheckGracePeriod: Duration.seconds(60),
      plainEnvironmentReason: 'The only variable is the public homeserver URL the UI is pinned to; the app holds no secret (admins sign in through Synapse).',
    });
    this.service = fargate.service;
    this.targetGroup = fargate.targetGroup;
  }
}
