import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ChatConfig } from '../config';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction } from '../constructs/chat-function';
import { Platform } from './index';
import { protectionPlan } from './protection-plan';
import { chatFunctionCommonProps } from '../construct-props';

export interface DeletionProtectionProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
}

/**
 * Deletion protection that cannot turn a failed first deploy into ROLLBACK_FAILED or block its retry
 * (protection-plan.ts says why). Two deploy-time steps, each with its own function so neither's IAM
 * policy makes it wait for resources it does not touch:
 * - `Protect` refers to the RDS instance and the ALB, so CloudFormation creates it right after them
 *   and, in a rollback, deletes it right before them: its Create turns their protection on, its Delete
 *   turns it off only while the stack's creation rolls back;
 * - `TerminationProtectionRelease` depends on nothing, so it exists within the first minute of the
 *   deploy; its Delete turns the stack's termination protection off, again only in that rollback.
 * Any other Delete (stack deletion, the step removed) leaves every protection on.
 */
export class DeletionProtection extends Construct {
  public readonly protect?: ChatCustomResource;
  public readonly terminationProtectionRelease?: ChatCustomResource;

  constructor(scope: Construct, id: string, props: DeletionProtectionProps) {
    super(scope, id);
    const { config, platform } = props;
    const plan = protectionPlan(config);
    const stackArn = Stack.of(this).stackId;
    const describeStack = new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stackArn] });

    if (plan.database || plan.loadBalancer) {
      const handler = this.handler('ProtectHandler', config, 'Turns on RDS and ALB deletion protection once created; lifts it only in a create rollback');
      handler.function.addToRolePolicy(describeStack);
      const properties: Record<string, string> = {};
      if (plan.database) {
        properties.DBInstanceIdentifier = platform.database.instance.instanceIdentifier;
        handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['rds:ModifyDBInstance', 'rds:DescribeDBInstances'], resources: [platform.database.instance.instanceArn] }));
      }
      if (plan.loadBalancer) {
        properties.LoadBalancerArn = platform.loadBalancer.loadBalancer.loadBalancerArn;
        handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['elasticloadbalancing:ModifyLoadBalancerAttributes'], resources: [platform.loadBalancer.loadBalancer.loadBalancerArn] }));
      }
      this.protect = new ChatCustomResource(this, 'Protect', { onEvent: handler, resourceType: 'Custom::ChatDeletionProtection', properties });
    }

    if (plan.terminationProtection) {
      const handler = this.handler('ReleaseHandler', config, "Lifts the stack's termination protection only while its creation rolls back");
      handler.function.addToRolePolicy(describeStack);
      handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:UpdateTerminationProtection'], resources: [stackArn] }));
      this.terminationProtectionRelease = new ChatCustomResource(this, 'TerminationProtectionRelease', {
        onEvent: handler,
        resourceType: 'Custom::ChatTerminationProtectionRelease',
        properties: { ReleaseTerminationProtection: 'true' },
      });
    }
  }

  private handler(id: string, config: ChatConfig, description: string): ChatFunction {
    return new ChatFunction(this, id, {
      ...chatFunctionCommonProps(config),
      entry: 'deletion-protection/index.ts',
      description,
      // Up to a minute waiting for RDS to report the change, plus the calls themselves.
      timeout: Duration.minutes(2),
    });
  }
}
