import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ROTATION_EVENT } from '../../chat-domain/rotation-event';
import { ChatFunction, ChatFunctionCommonProps, functionCommonProps } from '../constructs/chat-function';

export interface HasuraRotationRestartProps extends ChatFunctionCommonProps {
  /** The Hasura role's secret, which Secrets Manager rotates. */
  readonly secret: secretsmanager.ISecret;
  /** The cluster the Hasura service runs in. */
  readonly cluster: ecs.ICluster;
  /** The Hasura service, restarted after each rotation of `secret`. */
  readonly service: ecs.IBaseService;
}

/**
 * Restarts Hasura after each rotation of its database secret: the engine reads its database URL
 * only from its environment at start, so it would hold the previous login until the rotation after
 * (which then refuses it). An EventBridge rule on Secrets Manager's RotationSucceeded for this one
 * secret invokes a small function (lambda/hasura-rotation-restart) that forces a new deployment of
 * this one service; the previous login works until the next rotation, so the rolling restart has
 * all that time. The function may UpdateService that service and nothing else.
 */
export class HasuraRotationRestart extends Construct {
  public readonly function: ChatFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: HasuraRotationRestartProps) {
    super(scope, id);
    this.function = new ChatFunction(this, 'Function', {
      ...functionCommonProps(props),
      entry: 'hasura-rotation-restart/index.ts',
      description: 'Restarts the Hasura service after its database secret rotates',
      timeout: Duration.seconds(30),
      environment: { CLUSTER: props.cluster.clusterArn, SERVICE: props.service.serviceName, SECRET_ARN: props.secret.secretArn },
    });
    this.function.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: [props.service.serviceArn] }));
    this.rule = new events.Rule(this, 'RotationSucceeded', {
      description: "Restarts Hasura after Secrets Manager rotates its database role's secret",
      eventPattern: {
        source: [ROTATION_EVENT.source],
        detailType: [ROTATION_EVENT.detailType],
        detail: { eventSource: [ROTATION_EVENT.eventSource], eventName: [ROTATION_EVENT.eventName], additionalEventData: { SecretId: [props.secret.secretArn] } },
      },
    });
    // A failed run (ECS refused or was unreachable) is retried: by Lambda's asynchronous invoke
    // twice, and EventBridge retries a delivery that fails, for up to a day.
    this.rule.addTarget(new targets.LambdaFunction(this.function.function, { retryAttempts: 8, maxEventAge: Duration.hours(24) }));
  }
}
