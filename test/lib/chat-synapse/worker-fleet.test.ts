import { Match } from 'aws-cdk-lib/assertions';
import { SYNAPSE_RULE_PRIORITIES } from '../../../lib/chat-synapse/alb-rules';
import { REDIS_PORT } from '../../../lib/chat-synapse/replication-redis';
import { SYNAPSE_WORKER_STOP_TIMEOUT } from '../../../lib/chat-synapse/worker-service';
import { SYNAPSE_REPLICATION_PORT, WORKER_PLAIN_ENV, WORKER_SECRET_ENV } from '../../../lib/chat-synapse/workers';
import { SCALING_TARGETS } from '../../../lib/operations/thresholds';
import { routeRequest } from '../../support/alb-rules';
import { stackTemplate } from '../../support/synth';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Synapse's workers in the production template (synapse.workers defaults: generic 2–6, one federation sender, one media worker). */
describe('Synapse workers (production)', () => {
  const t = stackTemplate('production');
  const template = t.toJSON() as Json;
  const resources = template.Resources as Record<string, Json>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const idOf = (type: string, prefix: string) => {
    const found = ofType(type).filter(([id]) => id.startsWith(prefix));
    expect(found.map(([id]) => id)).toHaveLength(1);
    return found[0]![0];
  };
  const sgOf = (name: string) => ofType('AWS::EC2::SecurityGroup').find(([, r]) => r.Properties.GroupName === name)![0];
  const ingressTo = (sg: string) =>
    ofType('AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties)
      .filter((p) => p.GroupId?.['Fn::GetAtt']?.[0] === sg);
  const services = (name: string) => ofType('AWS::ECS::Service').find(([, r]) => r.Properties.ServiceName === name);
  const taskOf = (service: Json) => resources[service.Properties.TaskDefinition.Ref]!;
  const synapseSg = sgOf('phenom-production-synapse');

  it('runs Redis as ElastiCache for Valkey with TLS required, encryption at rest and an AUTH token by dynamic reference', () => {
    const [, rg] = ofType('AWS::ElastiCache::ReplicationGroup')[0]!;
    expect(rg.Properties).toMatchObject({
      Engine: 'valkey',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      ReplicasPerNodeGroup: 1,
      Port: REDIS_PORT,
    });
    const token = JSON.stringify(rg.Properties.AuthToken);
    const secretId = idOf('AWS::SecretsManager::Secret', 'ChatSynapseWorkersRedisAuthToken');
    expect(token).toContain('{{resolve:secretsmanager:');
    expect(token).toContain(secretId);
  });

  it('lets only the Synapse main and worker tasks reach Redis, on 6379', () => {
    const redisSg = sgOf('phenom-production-synapse-redis');
    const sources = ingressTo(redisSg).map((r) => ({ from: r.SourceSecurityGroupId['Fn::GetAtt'][0], port: [r.FromPort, r.ToPort] }));
    const expected = [synapseSg, sgOf('phenom-production-synapse-generic'), sgOf('phenom-production-synapse-federation-sender-1'), sgOf('phenom-production-synapse-media-1')];
    expect(sources.map((s) => s.from).sort()).toEqual(expected.sort());
    for (const s of sources) expect(s.port).toEqual([REDIS_PORT, REDIS_PORT]);
    expect(resources[redisSg]!.Properties.SecurityGroupIngress).toBeUndefined();
  });

  it('runs each worker as its own service with its own SG, a stop timeout, the Redis secrets through ECS secrets and a Cloud Map name', () => {
    for (const name of ['generic', 'federation-sender-1', 'media-1']) {
      const [, service] = services(`phenom-production-synapse-${name}`)!;
      expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups).toEqual([{ 'Fn::GetAtt': [sgOf(`phenom-production-synapse-${name}`), 'GroupId'] }]);
      const registry = resources[service.Properties.ServiceRegistries[0].RegistryArn['Fn::GetAtt'][0]]!;
      expect(registry.Properties.Name).toBe(name);
      const synapse = (taskOf(service).Properties.ContainerDefinitions as Json[]).find((c) => c.Name === 'synapse')!;
      expect(synapse.StopTimeout).toBe(SYNAPSE_WORKER_STOP_TIMEOUT.toSeconds());
      expect(synapse.HealthCheck.Command[1]).toContain('/health');
      expect(synapse.Secrets.map((s: Json) => s.Name)).toEqual(expect.arrayContaining([WORKER_SECRET_ENV.redisPassword, WORKER_SECRET_ENV.replicationSecret]));
      const plain = (synapse.Environment as Json[]).map((e) => e.Name);
      expect(plain).not.toContain(WORKER_SECRET_ENV.redisPassword);
      expect(plain).toContain(WORKER_PLAIN_ENV.redisHost);
      // The budget test counts every worker's pool from its config.
      expect(JSON.stringify(synapse.Environment.find((e: Json) => e.Name === 'SYNAPSE_CONFIG_YAML').Value)).toMatch(/cp_max: \d+/);
    }
    // The main process and the workers share one namespace, so instance_map hosts resolve.
    const namespaces = new Set(
      ofType('AWS::ServiceDiscovery::Service')
        .filter(([id]) => id.startsWith('ChatSynapse'))
        .map(([, r]) => JSON.stringify(r.Properties.DnsConfig.NamespaceId)),
    );
    expect(namespaces.size).toBe(1);
  });

  it('gives client-serving workers a /health target group and the federation sender none', () => {
    for (const name of ['generic', 'media-1']) {
      const [, service] = services(`phenom-production-synapse-${name}`)!;
      const tg = resources[service.Properties.LoadBalancers[0].TargetGroupArn.Ref]!;
      expect(tg.Properties).toMatchObject({ HealthCheckPath: '/health', Port: 8008, TargetType: 'ip' });
      expect(ingressTo(sgOf(`phenom-production-synapse-${name}`)).map((r) => r.FromPort)).toEqual(expect.arrayContaining([8008]));
    }
    const [, sender] = services('phenom-production-synapse-federation-sender-1')!;
    expect(sender.Properties.LoadBalancers ?? []).toEqual([]);
    expect(sender.Properties.DeploymentConfiguration).toMatchObject({ MinimumHealthyPercent: 0, MaximumPercent: 100 });
    expect(ingressTo(sgOf('phenom-production-synapse-federation-sender-1'))).toEqual([]);
    expect((taskOf(sender).Properties.ContainerDefinitions as Json[]).map((c) => c.Name)).not.toContain('synapse-edge');
  });

  it('admits every worker to the main process on the replication port, and nobody else there', () => {
    const replication = ingressTo(synapseSg).filter((r) => r.FromPort === SYNAPSE_REPLICATION_PORT);
    expect(replication.map((r) => r.SourceSecurityGroupId['Fn::GetAtt'][0]).sort()).toEqual(
      [sgOf('phenom-production-synapse-generic'), sgOf('phenom-production-synapse-federation-sender-1'), sgOf('phenom-production-synapse-media-1')].sort(),
    );
  });

  it('scales the generic workers on CPU between 2 and 6 with cooldowns, and fixes the others at one task', () => {
    const [genericId, generic] = services('phenom-production-synapse-generic')!;
    expect(generic.Properties.DesiredCount).toBe(2);
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 6,
      ResourceId: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.objectLike({ 'Fn::GetAtt': [genericId, 'Name'] })])]) }),
    });
    const c = SCALING_TARGETS.synapseWorkerCpu;
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 50,
        ScaleInCooldown: c.scaleInCooldownSeconds,
        ScaleOutCooldown: c.scaleOutCooldownSeconds,
      },
    });
    for (const name of ['federation-sender-1', 'media-1']) expect(services(`phenom-production-synapse-${name}`)![1].Properties.DesiredCount).toBe(1);
  });

  describe('ALB routing', () => {
    const tgOfService = (name: string) => services(name)![1].Properties.LoadBalancers[0].TargetGroupArn.Ref as string;
    const mainTg = tgOfService('phenom-production-synapse');
    const genericTg = tgOfService('phenom-production-synapse-generic');
    const mediaTg = tgOfService('phenom-production-synapse-media-1');
    const route = (path: string, method = 'GET') => routeRequest(template, { host: 'chat.thephenom.app', path, method });

    it('sends sync and room reads to the generic workers, media to the media worker, inside the 2xx worker block', () => {
      for (const path of ['/_matrix/client/v3/sync', '/_matrix/client/v3/rooms/!r:thephenom.app/messages']) {
        const r = route(path);
        expect({ path, tg: r.actions.at(-1) }).toEqual({ path, tg: { type: 'forward', targetGroup: genericTg } });
        expect(r.priority).toBeGreaterThanOrEqual(SYNAPSE_RULE_PRIORITIES.workersFirst);
        expect(r.priority).toBeLessThanOrEqual(SYNAPSE_RULE_PRIORITIES.workersLast);
      }
      expect(route('/_matrix/client/v1/media/download/thephenom.app/abc').actions.at(-1)).toEqual({ type: 'forward', targetGroup: mediaTg });
    });

    it('keeps everything else on the main process, at the moved catch-all', () => {
      for (const path of ['/_matrix/client/v3/rooms/!r:thephenom.app/send/m.room.message/t1', '/_matrix/client/v3/login', '/_synapse/client/oidc/callback']) {
        expect({ path, r: route(path, path.includes('/send/') ? 'PUT' : 'GET') }).toMatchObject({
          path,
          r: { priority: SYNAPSE_RULE_PRIORITIES.synapseAfterWorkers, actions: [{ type: 'forward', targetGroup: mainTg }] },
        });
      }
    });

    it('keeps the SSO alias, the password block and the admin sign-in ahead of every worker rule', () => {
      expect(route('/_matrix/client/v3/login/sso/redirect/cognito').priority).toBe(SYNAPSE_RULE_PRIORITIES.ssoIdpAlias);
      expect(route('/_matrix/client/v3/account/password', 'POST').priority).toBe(SYNAPSE_RULE_PRIORITIES.passwordChangeBlock);
      const admin = route('/_synapse/admin/v1/media/thephenom.app/abc');
      expect(admin.actions.map((a) => a.type)).toEqual(['authenticate-cognito', 'forward']);
      expect(admin.actions[1]).toEqual({ type: 'forward', targetGroup: mediaTg });
      expect(admin.priority).toBeLessThan(SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst);
      expect(route('/_synapse/admin/v2/users/@a:thephenom.app').actions.at(-1)).toEqual({ type: 'forward', targetGroup: mainTg });
    });
  });
});

describe('Synapse workers off (development)', () => {
  it('has no Redis, no worker service and the catch-all at 200', () => {
    const t = stackTemplate('development');
    t.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    const names = Object.values(t.findResources('AWS::ECS::Service')).map((s) => s.Properties.ServiceName as string);
    expect(names.filter((n) => n.startsWith('phenom-development-synapse-'))).toEqual(['phenom-development-synapse-admin']);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: SYNAPSE_RULE_PRIORITIES.synapse,
      Conditions: Match.arrayWith([Match.objectLike({ PathPatternConfig: { Values: ['/_matrix/*', '/_synapse/client/*'] } })]),
    });
  });
});
