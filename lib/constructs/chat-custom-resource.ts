import { CfnResource, CustomResource, Duration, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import {
  CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS,
  CLOUDFORMATION_HEADROOM_SECONDS,
  MAX_HANDLER_TIMEOUT_SECONDS,
  PROVIDER_ACTIVATION_WAIT_SECONDS,
  PROVIDER_FUNCTION_TIMEOUT_SECONDS,
  PROVIDER_MARGIN_SECONDS,
} from '../../chat-domain/deploy-step-limits';
import { acknowledgeNag } from '../nag';
import { ChatFunction } from './chat-function';

export interface ChatCustomResourceProps {
  /** The handler that does the work (onEvent). It returns `{ PhysicalResourceId, Data }` or throws. The provider's logs keep what its logs keep. */
  readonly onEvent: ChatFunction;
  /**
   * A handler polled until it returns `{ IsComplete: true }`, for work that waits
   * (e.g. for a service to become healthy).
   * @default - the resource completes when onEvent returns
   */
  readonly isComplete?: ChatFunction;
  /** @default 5 seconds */
  readonly queryInterval?: Duration;
  /**
   * How long the framework polls isComplete. It counts polls (totalTimeout / queryInterval),
   * not time, so the isComplete handler must also stop by wall time (see synapse-bootstrap).
   * @default 30 minutes
   */
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
 * The longest a deploy step can take from CloudFormation's request to the framework's answer:
 * each handler invocation may follow an activation wait, and a polled step adds its polling.
 */
export function deployStepBoundSeconds(step: { readonly onEventTimeoutSeconds: number; readonly isCompleteTimeoutSeconds?: number; readonly totalTimeoutSeconds?: number }): number {
  const invoke = (handlerSeconds: number) => PROVIDER_ACTIVATION_WAIT_SECONDS + handlerSeconds + PROVIDER_MARGIN_SECONDS;
  const onEvent = invoke(step.onEventTimeoutSeconds);
  if (step.isCompleteTimeoutSeconds === undefined) return onEvent;
  return onEvent + (step.totalTimeoutSeconds ?? 0) + invoke(step.isCompleteTimeoutSeconds);
}

/**
 * A deploy-time step (migrations, metadata apply, bootstrap) as a CloudFormation
 * custom resource on the CDK provider framework, which handles the CloudFormation
 * response protocol, retries and timeouts so our handlers only do the work and
 * throw with a clear message on failure.
 *
 * Its time limits are checked here (chat-domain/deploy-step-limits.ts says why): each
 * handler's timeout leaves the framework time to report, and the whole step fits well inside
 * CloudFormation's hour. The resource's ServiceTimeout is set just above the step's worst
 * case, so CloudFormation fails it then, not after an hour, if no answer ever comes.
 */
export class ChatCustomResource extends Construct {
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ChatCustomResourceProps) {
    super(scope, id);
    const queryInterval = props.isComplete ? (props.queryInterval ?? Duration.seconds(5)) : undefined;
    const totalTimeout = props.isComplete ? (props.totalTimeout ?? Duration.minutes(30)) : undefined;
    const timeoutOf = (handler: ChatFunction, role: string): number => {
      const seconds = (handler.function.timeout ?? Duration.seconds(3)).toSeconds();
      if (seconds > MAX_HANDLER_TIMEOUT_SECONDS) {
        throw new Error(
          `${id}: the ${role} handler's timeout is ${seconds} s; a deploy-step handler may run at most ${MAX_HANDLER_TIMEOUT_SECONDS} s, ` +
            'so the provider framework (15 min) outlives it and reports its failure; move long work into an isComplete step',
        );
      }
      return seconds;
    };
    const boundSeconds = deployStepBoundSeconds({
      onEventTimeoutSeconds: timeoutOf(props.onEvent, 'onEvent'),
      isCompleteTimeoutSeconds: props.isComplete ? timeoutOf(props.isComplete, 'isComplete') : undefined,
      totalTimeoutSeconds: totalTimeout?.toSeconds(),
    });
    const ceilingSeconds = CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS - CLOUDFORMATION_HEADROOM_SECONDS;
    if (boundSeconds + PROVIDER_MARGIN_SECONDS > ceilingSeconds) {
      throw new Error(
        `${id}: this deploy step may take up to ${boundSeconds} s (handler timeouts, activation waits and a totalTimeout of ${totalTimeout?.toSeconds() ?? 0} s), ` +
          `more than the ${ceilingSeconds} s allowed inside CloudFormation's ${CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS} s custom-resource limit; shorten totalTimeout or the handlers' timeouts`,
      );
    }
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.onEvent.function,
      isCompleteHandler: props.isComplete?.function,
      queryInterval,
      totalTimeout,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: props.onEvent.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: props.resourceType,
      properties: props.properties,
      serviceTimeout: Duration.seconds(boundSeconds + PROVIDER_MARGIN_SECONDS),
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

/**
 * Gives every other custom resource in the stack (aws-cdk-lib's own: VPC default SG, S3
 * auto-delete, log retention, AwsCustomResource) a ServiceTimeout too. Their handlers answer
 * CloudFormation themselves and no Lambda runs longer than 900 s, so past that plus a margin no
 * answer can come; without it CloudFormation would wait out the hour after a killed handler.
 */
export class CustomResourceServiceTimeouts implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    if (!node.cfnResourceType.startsWith('Custom::') && node.cfnResourceType !== 'AWS::CloudFormation::CustomResource') return;
    // The same private field lib/operations reads: CfnResource keeps a custom resource's properties there.
    const properties = (node as unknown as { _cfnProperties?: Record<string, unknown> })._cfnProperties ?? {};
    if (properties.ServiceTimeout !== undefined) return;
    node.addPropertyOverride('ServiceTimeout', String(PROVIDER_FUNCTION_TIMEOUT_SECONDS + PROVIDER_MARGIN_SECONDS));
  }
}
