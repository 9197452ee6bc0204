import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DeleteLoadBalancerCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { createDeletionProtectionHandler } from '../../../lambda/deletion-protection';
import { QueryApiStandIn, startQueryApiStandIn } from '../../support/aws/query-api-stand-in';
import { customResourceEvent } from '../../support/cloudformation-event';
import { CapturedOutput, capturePowertoolsOutput } from '../../support/powertools-output';

const credentials = { accessKeyId: 'stand-in-access-key', secretAccessKey: 'stand-in-secret-key' };
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/PhenomChat-development/5f1a7c40-0000-4000-8000-000000000000';
const DB = 'phenomchat-production-platformdatabaseinstance-abc123';
const ALB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/PhenomChat-Platf-1A2B3C/50dc6c495c0c9188';
const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:provider';

let api: QueryApiStandIn;
let rds: RDSClient;
let elbv2: ElasticLoadBalancingV2Client;
let handler: ReturnType<typeof createDeletionProtectionHandler>;
let output: CapturedOutput;

beforeEach(async () => {
  output = capturePowertoolsOutput();
  api = await startQueryApiStandIn();
  api.stacks.set(STACK_ID, { status: 'CREATE_IN_PROGRESS', terminationProtection: true });
  api.dbInstances.set(DB, { deletionProtection: false });
  api.loadBalancers.set(ALB, { 'idle_timeout.timeout_seconds': '120' });
  const config = { endpoint: api.url, region: 'us-east-1', credentials };
  rds = new RDSClient(config);
  elbv2 = new ElasticLoadBalancingV2Client(config);
  handler = createDeletionProtectionHandler({ cloudformation: new CloudFormationClient(config), rds, elbv2 }, { intervalMs: 10, attempts: 3 });
});
afterEach(async () => {
  output.restore();
  await api.close();
});

const protect = { ServiceToken: SERVICE_TOKEN, DBInstanceIdentifier: DB, LoadBalancerArn: ALB };
const release = { ServiceToken: SERVICE_TOKEN, ReleaseTerminationProtection: 'true' };
const event = (requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, string> & { ServiceToken: string }, extra: Record<string, unknown> = {}) => ({
  ...customResourceEvent({ requestType, resourceType: 'Custom::ChatDeletionProtection', properties, extra }),
  StackId: STACK_ID,
});
/** What CloudFormation's DBInstance and LoadBalancer handlers call when a rollback deletes them. */
const rollbackDeletes = () =>
  Promise.allSettled([rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: DB, SkipFinalSnapshot: true })), elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: ALB }))]);

describe('deletion protection custom resource', () => {
  it('turns protection on for the database and the load balancer once they are created', async () => {
    const result = await handler(event('Create', protect));
    expect(api.dbInstances.get(DB)).toEqual({ deletionProtection: true });
    expect(api.loadBalancers.get(ALB)).toMatchObject({ 'deletion_protection.enabled': 'true', 'idle_timeout.timeout_seconds': '120' });
    expect(api.calls.find((c) => c.action === 'ModifyDBInstance')?.params).toMatchObject({ DeletionProtection: 'true', ApplyImmediately: 'true' });
    expect(result.PhysicalResourceId).toBe('ChatDeletionProtectionResource');
  });

  it('lifts both protections while the stack creation rolls back, so the rollback can delete them', async () => {
    await handler(event('Create', protect));
    expect((await rollbackDeletes()).map((r) => r.status)).toEqual(['rejected', 'rejected']);

    api.stacks.get(STACK_ID)!.status = 'ROLLBACK_IN_PROGRESS';
    await handler(event('Delete', protect, { PhysicalResourceId: 'ChatDeletionProtectionResource' }));
    expect((await rollbackDeletes()).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(api.dbInstances.has(DB)).toBe(false);
    expect(output.logs('deletion protection').at(-1)).toMatchObject({
      requestType: 'Delete',
      changed: [`DB instance ${DB}: deletion protection off`, `load balancer ${ALB}: deletion protection off`],
    });
  });

  it.each(['DELETE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'])('keeps protection when deleted while the stack is %s', async (status) => {
    await handler(event('Create', protect));
    api.stacks.get(STACK_ID)!.status = status;
    await handler(event('Delete', protect, { PhysicalResourceId: 'ChatDeletionProtectionResource' }));
    expect(api.dbInstances.get(DB)).toEqual({ deletionProtection: true });
    expect(api.loadBalancers.get(ALB)?.['deletion_protection.enabled']).toBe('true');
    expect(api.calls.filter((c) => c.action === 'ModifyDBInstance')).toHaveLength(1);
  });

  it('protects a replacement instance named by an Update, keeping its physical id', async () => {
    await handler(event('Create', protect));
    api.dbInstances.set('replacement-db', { deletionProtection: false });
    const result = await handler(event('Update', { ...protect, DBInstanceIdentifier: 'replacement-db' }, { PhysicalResourceId: 'ChatDeletionProtectionResource', OldResourceProperties: protect }));
    expect(api.dbInstances.get('replacement-db')).toEqual({ deletionProtection: true });
    expect(result.PhysicalResourceId).toBe('ChatDeletionProtectionResource');
  });

  it('releases what a half-finished Create protected, and skips what the rollback already removed', async () => {
    api.loadBalancers.delete(ALB);
    await expect(handler(event('Create', protect))).rejects.toThrow(/not found/);
    expect(api.dbInstances.get(DB)).toEqual({ deletionProtection: true });

    api.stacks.get(STACK_ID)!.status = 'ROLLBACK_IN_PROGRESS';
    await handler(event('Delete', protect, { PhysicalResourceId: 'failed-create' }));
    expect(api.dbInstances.get(DB)).toEqual({ deletionProtection: false });
  });

  it('fails clearly on a database that does not exist at Create', async () => {
    await expect(handler(event('Create', { ...protect, DBInstanceIdentifier: 'nope' }))).rejects.toThrow('DBInstance nope not found.');
  });

  it('rejects a property it does not know, naming it', async () => {
    await expect(handler(event('Create', { ...protect, DbInstanceId: 'x' }))).rejects.toThrow('deletion protection: unknown resource properties DbInstanceId');
  });
});

describe('termination-protection release', () => {
  it("turns the stack's termination protection off while its creation rolls back, so cdk deploy can delete and retry it", async () => {
    await handler(event('Create', release));
    expect(api.stacks.get(STACK_ID)?.terminationProtection).toBe(true);
    api.stacks.get(STACK_ID)!.status = 'ROLLBACK_IN_PROGRESS';
    await handler(event('Delete', release, { PhysicalResourceId: 'ChatDeletionProtectionResource' }));
    expect(api.stacks.get(STACK_ID)?.terminationProtection).toBe(false);
  });

  it('leaves it on at any other deletion', async () => {
    api.stacks.get(STACK_ID)!.status = 'DELETE_IN_PROGRESS';
    await handler(event('Delete', release, { PhysicalResourceId: 'ChatDeletionProtectionResource' }));
    expect(api.stacks.get(STACK_ID)?.terminationProtection).toBe(true);
    expect(api.calls.map((c) => c.action)).toEqual(['DescribeStacks']);
  });
});
