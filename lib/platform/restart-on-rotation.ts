import { Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ROTATION_EVENT, RotationRestartEntry } from '../../chat-domain/rotation-event';
import { ChatFunction, ChatFunctionCommonProps, functionCommonProps } from '../constructs/chat-function';

/** A rotating secret and the services that read it only at start. */
export interface RotationRestart {
  readonly secret: secretsmanager.ISecret;
  /** Every service that reads `secret` at start (Synapse, and its workers once they exist). */
  readonly services: readonly ecs.IBaseService[];
}

export interface RestartOnRotationProps extends ChatFunctionCommonProps {
  /** The cluster every listed service runs in. */
  readonly cluster: ecs.ICluster;
  /** Which services to restart after which secret rotates; each secret once. */
  readonly restarts: readonly RotationRestart[];
}

/**
 * Restarts the ECS services that read a database secret only at start (Hasura's database URL,
 * Synapse's password) after each rotation of that secret: they would hold the previous login until
 * the rotation after, which then refuses it. One EventBridge rule on Secrets Manager's
 * RotationSucceeded for the listed secrets invokes one function (lambda/rotation-restart) that forces
 * a new deployment of exactly the services listed for the secret that rotated. The previous login
 * works until the next rotation, so the rolling restart has all that time. The function may
 * UpdateService the listed services and nothing else.
 */
export class RestartOnRotation extends Construct {
  public readonly function: ChatFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RestartOnRotationProps) {
    if (props.restarts.length === 0) throw new Error(`${id}: restarts lists no secret`);
    const arns = props.restarts.map((r) => r.secret.secretArn);
    if (new Set(arns).size !== arns.length) throw new Error(`${id}: a secret is listed twice; give it one entry with all its services`);
    for (const [i, r] of props.restarts.entries()) if (r.services.length === 0) throw new Error(`${id}: restarts[${i}] lists no service`);
    super(scope, id);

    const table: RotationRestartEntry[] = props.restarts.map((r) => ({ secretArn: r.secret.secretArn, services: r.services.map((s) => s.serviceName) }));
    this.function = new ChatFunction(this, 'Function', {
      ...functionCommonProps(props),
      entry: 'rotation-restart/index.ts',
      description: 'Restarts the ECS services that read a database secret at start after it rotates',
      timeout: Duration.seconds(30),
      environment: { CLUSTER: props.cluster.clusterArn, RESTARTS: Stack.of(this).toJsonString(table) },
    });
    const services = [...new Set(props.restarts.flatMap((r) => r.services))];
    this.function.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: services.map((s) => s.serviceArn) }));
    this.rule = new events.Rule(this, 'RotationSucceeded', {
      description: 'Restarts the services that read a database secret at start after Secrets Manager rotates it',
      eventPattern: {
        source: [ROTATION_EVENT.source],
        detailType: [...ROTATION_EVENT.detailTypes],
        detail: { eventSource: [ROTATION_EVENT.eventSource], eventName: [ROTATION_EVENT.eventName], additionalEventData: { SecretId: arns } },
      },
    });
    // A failed run (ECS refused or was unreachable) is retried: by Lambda's asynchronous invoke
    // twice, and EventBridge retries a delivery that fails, for up to a day.
    this.rule.addTarget(new targets.LambdaFunction(this.function.function, { retryAttempts: 8, maxEventAge: Duration.hours(24) }));
  }
}
