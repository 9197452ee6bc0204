import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AB_NAMESPACE } from '../../chat-domain/ab-metrics';
import { acknowledgeNag } from '../nag';

/** Lets `fn` put metrics into Phenom/AB and no other namespace. */
export function allowPutAbMetrics(fn: lambda.Function): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      // PutMetricData has no resource type: the namespace condition is what scopes it.
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': AB_NAMESPACE } },
    }),
  );
  acknowledgeNag(fn, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'cloudwatch:PutMetricData supports no resource ARN; the cloudwatch:namespace condition limits it to Phenom/AB.',
  });
}
