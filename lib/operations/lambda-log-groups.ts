import { CfnResource, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';

/**
 * Gives every Lambda function that has no log group of its own (the singleton
 * handlers aws-cdk-lib adds: VPC default-SG restriction, S3 auto-delete,
 * AwsCustomResource, log retention) an explicit log group with the configured
 * retention. Without it, Lambda creates /aws/lambda/<name> on first run with
 * logs kept forever, outside the stack. Our own functions (ChatFunction) already
 * have one and are left alone.
 */
export class LambdaLogGroups implements IAspect {
  constructor(
    private readonly retentionDays: number,
    private readonly removalPolicy: RemovalPolicy,
  ) {}

  public visit(node: IConstruct): void {
    // A /aws/lambda/<fn> group aws-cdk-lib made for one of its own functions (e.g. AwsCustomResource's,
    // under the useCdkManagedLogGroup flag) carries CDK's default of 731 days: hold it to the config too.
    if (
      node instanceof logs.CfnLogGroup &&
      node.logGroupName !== undefined &&
      /^\{"Fn::Join":\["",\["\/aws\/lambda\/",\{"Ref":/.test(JSON.stringify(Stack.of(node).resolve(node.logGroupName)) ?? '')
    ) {
      node.retentionInDays = this.retentionDays;
      // aws-cdk-lib makes it Retain in every environment; development would leak one per stack deletion.
      node.applyRemovalPolicy(this.removalPolicy);
      return;
    }
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (hasLogGroup(node) || hasNamedLogGroup(node)) return;
    const logGroup = new logs.LogGroup(node.node.scope!, `${node.node.id}LogGroup`, {
      retention: this.retentionDays as logs.RetentionDays,
      removalPolicy: this.removalPolicy,
    });
    node.addPropertyOverride('LoggingConfig.LogGroup', logGroup.logGroupName);
  }
}

function hasLogGroup(fn: CfnResource): boolean {
  if (fn instanceof lambda.CfnFunction) {
    const config = fn.loggingConfig as lambda.CfnFunction.LoggingConfigProperty | undefined;
    return config?.logGroup !== undefined;
  }
  // A plain CfnResource of type AWS::Lambda::Function (CustomResourceProvider): its properties are raw CloudFormation.
  const raw = (fn as unknown as { _cfnProperties?: { LoggingConfig?: { LogGroup?: unknown } } })._cfnProperties;
  return raw?.LoggingConfig?.LogGroup !== undefined;
}

/** Someone already created /aws/lambda/<this function> (e.g. AwsCustomResource's logGroup option): it is the function's default destination. */
function hasNamedLogGroup(fn: CfnResource): boolean {
  const stack = Stack.of(fn);
  const ref = JSON.stringify(stack.resolve(fn.ref));
  return stack.node.findAll().some((c) => c instanceof logs.CfnLogGroup && c.logGroupName !== undefined && (JSON.stringify(stack.resolve(c.logGroupName)) ?? '').includes(`"/aws/lambda/",${ref}`));
}
