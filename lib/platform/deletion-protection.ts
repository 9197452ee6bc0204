import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, ChatFunctionCommonProps, functionCommonProps } from '../constructs/chat-function';

export interface DeletionProtectionProps extends ChatFunctionCommonProps {
  /**
   * The RDS instance to protect once it exists (created with its DeletionProtection left out of the template).
   * @default - no instance is protected
   */
  readonly database?: rds.IDatabaseInstance;
  /**
   * The ALB to protect once it exists (created with its deletion_protection.enabled left out of the template).
   * @default - no load balancer is protected
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /**
   * The stack has termination protection, to lift if its creation rolls back.
   * @default false - no termination-protection step
   */
  readonly terminationProtection?: boolean;
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
    const { database, loadBalancer } = props;
    const stackArn = Stack.of(this).stackId;
    const describeStack = new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [stackArn] });

    if (database || loadBalancer) {
      const handler = this.handler('ProtectHandler', props, 'Turns on RDS and ALB deletion protection once created; lifts it only in a create rollback');
      handler.function.addToRolePolicy(describeStack);
      const properties: Record<string, string> = {};
      if (database) {
        properties.DBInstanceIdentifier = database.instanceIdentifier;
        handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['rds:ModifyDBInstance', 'rds:DescribeDBInstances'], resources: [database.instanceArn] }));
      }
      if (loadBalancer) {
        properties.LoadBalancerArn = loadBalancer.loadBalancerArn;
        handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['elasticloadbalancing:ModifyLoadBalancerAttributes'], resources: [loadBalancer.loadBalancerArn] }));
      }
      this.protect = new ChatCustomResource(this, 'Protect', { onEvent: handler, resourceType: 'Custom::ChatDeletionProtection', properties });
    }

    if (props.terminationProtection) {
      const handler = this.handler('ReleaseHandler', props, "Lifts the stack's termination protection only while its creation rolls back");
      handler.function.addToRolePolicy(describeStack);
      handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:UpdateTerminationProtection'], resources: [stackArn] }));
      this.terminationProtectionRelease = new ChatCustomResource(this, 'TerminationProtectionRelease', {
        onEvent: handler,
        resourceType: 'Custom::ChatTerminationProtectionRelease',
        properties: { ReleaseTerminationProtection: 'true' },
      });
    }
  }

  private handler(id: string, common: ChatFunctionCommonProps, description: string): ChatFunction {
    return new ChatFunction(this, id, {
      ...functionCommonProps(common),
      entry: 'deletion-protection/index.ts',
      description,
      // Up to a minute waiting for RDS to report the change, plus the calls themselves.
      timeout: Duration.minutes(2),
    });
  }
}
