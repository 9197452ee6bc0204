import { RemovalPolicy } from 'aws-cdk-lib';
import { ChatConfig } from './config';

/**
 * The removal policy of whatever matters only once it exists (logs, media, keys): kept in production
 * when the stack is deleted or the resource is removed or replaced, but deleted when the stack
 * operation that created it rolls back. That is CloudFormation's DeletionPolicy RetainExceptOnCreate
 * (aws-cdk-lib renders UpdateReplacePolicy Retain beside it), which "behaves like Retain for stack
 * operations, except for the stack operation that initially created the resource. If the stack
 * operation that created the resource is rolled back, CloudFormation deletes the resource"
 * (DeletionPolicy attribute, CloudFormation template reference). A plain Retain leaves a resource with a
 * fixed name (the /ecs/<prefix>-… log groups, aws-waf-logs-<prefix>) behind after a failed first
 * deploy, and the retry then fails with "already exists". Development deletes with the stack.
 *
 * A plain RETAIN stays only where a rollback could not delete the resource anyway; each one says why,
 * and test/lib/removal-policy.test.ts allow-lists those with a fixed name.
 */
export function keepOnceCreated(config: Pick<ChatConfig, 'production'>): RemovalPolicy {
  return config.production ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
}
