import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { checkWorkerRules, SynapseWorkerRule } from '../../../lib/chat-synapse/alb-rules';
import { ReplicationRedis } from '../../../lib/chat-synapse/replication-redis';

function setup() {
  const stack = new Stack(new App(), 'Test', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Tg', { vpc, port: 8008, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.IP });
  return { stack, vpc, targetGroup };
}

describe('worker ALB rules', () => {
  const { targetGroup } = setup();
  const rule = (over: Partial<SynapseWorkerRule> = {}): SynapseWorkerRule => ({ id: 'WorkerSync', paths: ['/_matrix/client/v3/sync'], targetGroup, ...over });

  it('accepts rules within the ALB condition quota', () => {
    expect(() => checkWorkerRules([rule({ paths: ['/a', '/b', '/c', '/d'] }), rule({ id: 'WorkerGet', paths: ['/e', '/f', '/g'], methods: ['GET'] })], [])).not.toThrow();
  });

  it('refuses a rule over the 5 condition values (host + paths + methods)', () => {
    expect(() => checkWorkerRules([rule({ paths: ['/a', '/b', '/c', '/d'], methods: ['GET'] })], [])).toThrow(
      'Synapse worker route WorkerSync: expected 1 or more path patterns and at most 5 condition values with the host header, got 6',
    );
  });

  it('refuses duplicate ids, relative paths, and more rules than the block holds', () => {
    expect(() => checkWorkerRules([rule(), rule()], [])).toThrow('rule id "WorkerSync" is used twice');
    expect(() => checkWorkerRules([rule({ paths: ['_matrix/*'] })], [])).toThrow('"_matrix/*" is not an ALB path pattern');
    expect(() =>
      checkWorkerRules(
        Array.from({ length: 90 }, (_, i) => rule({ id: `W${i}` })),
        [],
      ),
    ).toThrow('90 rules do not fit the 89 priorities 210–298');
  });

  it('keeps the admin API behind the admin flag, and refuses it beside an admin CIDR allow-list', () => {
    expect(() => checkWorkerRules([rule({ paths: ['/_synapse/admin/v1/media/*'] })], [])).toThrow('/_synapse/admin paths, and only they, are admin routes');
    expect(() => checkWorkerRules([rule({ paths: ['/_matrix/media/*'], adminApi: true })], [])).toThrow('/_synapse/admin paths, and only they, are admin routes');
    expect(() => checkWorkerRules([rule({ paths: ['/_synapse/admin/v1/media/*'], adminApi: true })], ['203.0.113.0/24'])).toThrow('cannot be combined with synapse.adminApiAllowedCidrs');
  });
});

describe('ReplicationRedis', () => {
  it('refuses a replica count ElastiCache refuses, leaving nothing behind', () => {
    const { stack, vpc } = setup();
    expect(() => new ReplicationRedis(stack, 'Redis', { vpc, prefix: 'demo', nodeType: 'cache.t4g.small', replicas: 6 })).toThrow('Redis: replicas must be an integer from 0 to 5');
    expect(stack.node.tryFindChild('Redis')).toBeUndefined();
  });

  it('without replicas turns Multi-AZ and automatic failover off', () => {
    const { stack, vpc } = setup();
    const redis = new ReplicationRedis(stack, 'Redis', { vpc, prefix: 'demo', nodeType: 'cache.t4g.micro', replicas: 0 });
    expect(stack.resolve(redis.replicationGroup.multiAzEnabled)).toBe(false);
    expect(stack.resolve(redis.replicationGroup.automaticFailoverEnabled)).toBe(false);
  });
});
