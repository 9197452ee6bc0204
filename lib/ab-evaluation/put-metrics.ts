import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { AB_NAMESPACE } from '../../chat-domain/ab-metrics';
import { acknowledgeNag } from '../nag';

/** Lets `grantee` (a Lambda function, a task role) put metrics into Phenom/AB and no other namespace. */
export function allowPutAbMetrics(grantee: iam.IGrantable & IConstruct): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      // PutMetricData has no resource type: the namespace condition is what scopes it.
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': AB_NAMESPACE } },
    }),
  );
  acknowledgeNag(grantee, {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'cloudwatch:PutMetricData supports no resource ARN; the cloudwatch:namespace condition limits it to Phenom/AB.',
  });
}
