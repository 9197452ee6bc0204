import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { acknowledgeNag } from '../nag';
import { ChatFunction } from './chat-function';

export interface ChatCustomResourceProps {
  readonly config: ChatConfig;
  /** The handler that does the work (onEvent). It returns `{ PhysicalResourceId, Data }` or throws. */
  readonly onEvent: ChatFunction;
  /**
   * A handler polled until it returns `{ IsComplete: true }`, for work that waits
   * (e.g. for a service to become healthy).
   * @default - the resource completes when onEvent returns
   */
  readonly isComplete?: ChatFunction;
  /** @default 5 seconds */
  readonly queryInterval?: Duration;
  /** @default 30 minutes */
  readonly totalTimeout?: Duration;
  /**
   * The resource properties. Put a content hash here to make the resource run
   * again on every deploy in which that content changed.
   */
  readonly properties?: Record<string, unknown>;
  /** CloudFormation resource type name, e.g. `Custom::ChatMigrations`. */
  readonly resourceType: `Custom::${string}`;
}

/**
 * A deploy-time step (migrations, metadata apply, bootstrap) as a CloudFormation
 * custom resource on the CDK provider framework, which handles the CloudFormation
 * response protocol, retries and timeouts so our handlers only do the work and
 * throw with a clear message on failure.
 */
export class ChatCustomResource extends Construct {
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ChatCustomResourceProps) {
    super(scope, id);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.onEvent.function,
      isCompleteHandler: props.isComplete?.function,
      queryInterval: props.isComplete ? (props.queryInterval ?? Duration.seconds(5)) : undefined,
      totalTimeout: props.isComplete ? (props.totalTimeout ?? Duration.minutes(30)) : undefined,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: props.config.monitoring.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: props.resourceType,
      properties: props.properties,
    });

    acknowledgeNag(
      provider,
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The CDK provider framework function needs only log delivery, which this AWS-managed policy grants.',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'The provider framework function is created by aws-cdk-lib, which picks its runtime; our own handlers run on Node.js 22.',
      },
    );
    for (const handler of [props.onEvent, props.isComplete]) {
      if (!handler) continue;
      const logicalId = Stack.of(this).resolve(Stack.of(this).getLogicalId(handler.function.node.defaultChild as lambda.CfnFunction));
      acknowledgeNag(provider, {
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'The provider framework may invoke any version of its own handler function (the :* suffix), and nothing else.',
      });
    }
  }

  /** A `Data` attribute the handler returned. */
  public getAttString(name: string): string {
    return this.resource.getAttString(name);
  }
}
