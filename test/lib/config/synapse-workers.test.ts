import { loadConfig } from '../../../lib/config';
import { DEFAULT_SYNAPSE_WORKERS, MAX_SYNAPSE_WORKER_SHARDS } from '../../../lib/config/schema';
import { configErrorOf } from '../../support/config-error';
import { cdkJsonEnvironments } from '../../support/synth';

function withWorkers(env: 'development' | 'production', workers: unknown) {
  const envs = cdkJsonEnvironments();
  envs[env].synapse = { ...(envs[env].synapse as object | undefined), workers };
  return envs;
}

describe('synapse.workers', () => {
  it('is off in development and on in production with the small default set', () => {
    expect(loadConfig(cdkJsonEnvironments(), 'development').synapse.workers).toEqual({ enabled: false });
    expect(loadConfig(cdkJsonEnvironments(), 'production').synapse.workers).toEqual({
      enabled: true,
      generic: { minCount: 2, maxCount: 6 },
      federationSenders: 1,
      mediaRepository: 1,
      eventPersisters: 0,
      redis: { nodeType: DEFAULT_SYNAPSE_WORKERS.redis.nodeType, replicas: 1 },
    });
  });

  it('takes counts per kind, and no Redis replica by default outside production', () => {
    const w = loadConfig(withWorkers('development', { enabled: true, generic: { minCount: 1, maxCount: 3 }, federationSenders: 2, mediaRepository: 0, eventPersisters: 2 }), 'development').synapse
      .workers;
    expect(w).toMatchObject({ enabled: true, generic: { minCount: 1, maxCount: 3 }, federationSenders: 2, mediaRepository: 0, eventPersisters: 2, redis: { replicas: 0 } });
  });

  it('lets production turn workers off', () => {
    expect(loadConfig(withWorkers('production', { enabled: false }), 'production').synapse.workers).toEqual({ enabled: false });
  });

  it('refuses a generic minCount above maxCount', () => {
    const msg = configErrorOf(() => loadConfig(withWorkers('production', { generic: { minCount: 4, maxCount: 2 } }), 'production'));
    expect(msg).toBe('phenom-chat:environments.production.synapse.workers.generic.maxCount: expected minCount ≤ maxCount');
  });

  it('refuses a second media repository and too many shards', () => {
    expect(configErrorOf(() => loadConfig(withWorkers('production', { mediaRepository: 2 }), 'production'))).toMatch(/synapse\.workers\.mediaRepository: .*<=1/);
    expect(configErrorOf(() => loadConfig(withWorkers('production', { eventPersisters: MAX_SYNAPSE_WORKER_SHARDS + 1 }), 'production'))).toMatch(
      new RegExp(`synapse\\.workers\\.eventPersisters: .*<=${MAX_SYNAPSE_WORKER_SHARDS}`),
    );
    expect(configErrorOf(() => loadConfig(withWorkers('production', { federationSenders: -1 }), 'production'))).toMatch(/synapse\.workers\.federationSenders: .*>=0/);
  });

  it('refuses worker settings while workers are off, naming each key', () => {
    const msg = configErrorOf(() => loadConfig(withWorkers('development', { eventPersisters: 1, redis: { replicas: 1 } }), 'development'));
    expect(msg).toContain('development.synapse.workers.eventPersisters: applies only when synapse.workers.enabled is true');
    expect(msg).toContain('development.synapse.workers.redis: applies only when synapse.workers.enabled is true');
  });

  it('refuses an unknown kind and a malformed node type', () => {
    expect(configErrorOf(() => loadConfig(withWorkers('production', { pushers: 1 }), 'production'))).toContain('synapse.workers.pushers: unknown key');
    expect(configErrorOf(() => loadConfig(withWorkers('production', { redis: { nodeType: 't4g.small' } }), 'production'))).toContain(
      'synapse.workers.redis.nodeType: expected an ElastiCache node type such as cache.t4g.small',
    );
  });
});
