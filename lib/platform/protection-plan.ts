import { ChatConfig } from '../config';

/**
 * Which protections a failed first deploy must not find switched on. CloudFormation undoes a failed
 * stack creation by deleting what it created, but RDS refuses DeleteDBInstance on an instance with
 * deletion protection ("The database can't be deleted when deletion protection is enabled",
 * AWS::RDS::DBInstance DeletionProtection; CloudFormation's DBInstance delete handler does not turn it
 * off first), ELB refuses DeleteLoadBalancer with deletion_protection.enabled, and the stack ends in
 * ROLLBACK_FAILED. And cdk deploy, retrying a stack whose creation rolled back, first deletes it, which
 * termination protection refuses ("the deletion fails and the stack, including its status, remains
 * unchanged", Protect CloudFormation stacks from being deleted).
 *
 * So in these cases the template leaves the protection off and the deletion-protection step
 * (deletion-protection.ts) turns it on right after the resource exists, and lifts it again, with the
 * stack's termination protection, only while the stack's own creation rolls back.
 */
export interface ProtectionPlan {
  /** The created RDS instance is protected (database.deletionProtection). */
  readonly database: boolean;
  /** The created ALB is protected (production). */
  readonly loadBalancer: boolean;
  /** The stack has termination protection (lib/app.ts: production), to lift if its creation rolls back. */
  readonly terminationProtection: boolean;
}

export function protectionPlan(config: ChatConfig): ProtectionPlan {
  return {
    database: config.database.mode === 'create' && config.database.deletionProtection,
    loadBalancer: config.loadBalancer.mode === 'create' && config.production,
    terminationProtection: config.production,
  };
}
