import { CloudFormationClient, DescribeStacksCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { ElasticLoadBalancingV2Client, LoadBalancerNotFoundException, ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';

/**
 * The custom resource's properties. `DBInstanceIdentifier` and `LoadBalancerArn` name what to
 * protect once created; `ReleaseTerminationProtection` ("true") marks the resource that only lifts
 * the stack's termination protection when the stack's creation rolls back.
 */
export interface ProtectionProperties {
  readonly DBInstanceIdentifier?: string;
  readonly LoadBalancerArn?: string;
  readonly ReleaseTerminationProtection?: string;
}

export interface ProtectionClients {
  readonly cloudformation: CloudFormationClient;
  readonly rds: RDSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
}

export interface Waiting {
  /** How often to re-read the instance until RDS reports the new setting. */
  readonly intervalMs: number;
  readonly attempts: number;
}

/**
 * The only stack status in which a Delete of this resource means "the stack's own creation failed
 * and is being undone": CloudFormation reports ROLLBACK_IN_PROGRESS only for the rollback of a
 * create (an update's is UPDATE_ROLLBACK_IN_PROGRESS, a deletion's DELETE_IN_PROGRESS).
 */
export const CREATE_ROLLBACK_STATUS = 'ROLLBACK_IN_PROGRESS';

/** Checks the properties, naming the wrong one: a template bug should fail the deploy clearly. */
export function parseProperties(props: Record<string, unknown> | undefined): ProtectionProperties {
  const known = ['ServiceToken', 'DBInstanceIdentifier', 'LoadBalancerArn', 'ReleaseTerminationProtection'];
  const unknown = Object.keys(props ?? {}).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`deletion protection: unknown resource properties ${unknown.join(', ')}`);
  for (const key of known.slice(1)) {
    const value = props?.[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) throw new Error(`deletion protection: ${key} must be a non-empty string`);
  }
  const parsed = (props ?? {}) as ProtectionProperties;
  if (parsed.ReleaseTerminationProtection !== undefined && parsed.ReleaseTerminationProtection !== 'true') {
    throw new Error('deletion protection: ReleaseTerminationProtection must be "true" when set');
  }
  if (!parsed.DBInstanceIdentifier && !parsed.LoadBalancerArn && !parsed.ReleaseTerminationProtection) {
    throw new Error('deletion protection: nothing to do; set DBInstanceIdentifier, LoadBalancerArn or ReleaseTerminationProtection');
  }
  return parsed;
}

export async function stackStatus(cloudformation: CloudFormationClient, stackId: string): Promise<string> {
  const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }));
  const status = Stacks?.[0]?.StackStatus;
  if (!status) throw new Error(`deletion protection: DescribeStacks returned no status for ${stackId}`);
  return status;
}

/**
 * Sets the instance's deletion protection and waits until RDS reports it: CloudFormation deletes the
 * instance right after this resource during a rollback, and DeleteDBInstance refuses a protected one.
 * A missing instance needs no change (nothing left to delete).
 */
export async function setDatabaseProtection(rds: RDSClient, id: string, enabled: boolean, waiting: Waiting): Promise<void> {
  try {
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, DeletionProtection: enabled, ApplyImmediately: true }));
    for (let attempt = 1; ; attempt++) {
      const { DBInstances } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
      if (DBInstances?.[0]?.DeletionProtection === enabled) return;
      if (attempt >= waiting.attempts) {
        throw new Error(`deletion protection: RDS still reports DeletionProtection=${String(DBInstances?.[0]?.DeletionProtection)} on ${id} after ${attempt} reads`);
      }
      await new Promise((resolve) => setTimeout(resolve, waiting.intervalMs));
    }
  } catch (err) {
    if (err instanceof DBInstanceNotFoundFault && !enabled) return;
    throw err;
  }
}

/** Sets the load balancer's deletion_protection.enabled attribute (applied by the call itself). */
export async function setLoadBalancerProtection(elbv2: ElasticLoadBalancingV2Client, arn: string, enabled: boolean): Promise<void> {
  try {
    await elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes: [{ Key: 'deletion_protection.enabled', Value: String(enabled) }] }));
  } catch (err) {
    if (err instanceof LoadBalancerNotFoundException && !enabled) return;
    throw err;
  }
}

/**
 * Create/Update: turn on the protections (the template leaves them off, so nothing is protected
 * while the stack's first creation can still roll back). Delete: lift them, and the stack's
 * termination protection, only while the stack's creation is rolling back; in any other Delete
 * (stack deletion, resource removed) protection stays, which is its point.
 * Returns what was changed, for the log.
 */
export async function handleProtection(clients: ProtectionClients, requestType: 'Create' | 'Update' | 'Delete', stackId: string, props: ProtectionProperties, waiting: Waiting): Promise<string[]> {
  const changed: string[] = [];
  let enabled = true;
  if (requestType === 'Delete') {
    const status = await stackStatus(clients.cloudformation, stackId);
    if (status !== CREATE_ROLLBACK_STATUS) return changed;
    enabled = false;
    if (props.ReleaseTerminationProtection === 'true') {
      await clients.cloudformation.send(new UpdateTerminationProtectionCommand({ StackName: stackId, EnableTerminationProtection: false }));
      changed.push(`stack ${stackId}: termination protection off`);
    }
  }
  if (props.DBInstanceIdentifier) {
    await setDatabaseProtection(clients.rds, props.DBInstanceIdentifier, enabled, waiting);
    changed.push(`DB instance ${props.DBInstanceIdentifier}: deletion protection ${enabled ? 'on' : 'off'}`);
  }
  if (props.LoadBalancerArn) {
    await setLoadBalancerProtection(clients.elbv2, props.LoadBalancerArn, enabled);
    changed.push(`load balancer ${props.LoadBalancerArn}: deletion protection ${enabled ? 'on' : 'off'}`);
  }
  return changed;
}
