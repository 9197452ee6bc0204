import { parse } from 'yaml';
import { buildHomeserverConfig, HOMESERVER_PLAIN_ENV, HOMESERVER_SECRET_ENV, HomeserverConfigInput, placeholdersIn, renderHomeserverYaml } from '../../../../lib/chat-synapse/homeserver-config';
import {
  buildMainProcessConfig,
  buildWorkerConfig,
  renderMainProcessYaml,
  renderWorkerYaml,
  SYNAPSE_REPLICATION_PORT,
  synapseWorkerProcesses,
  SynapseWorkerLayout,
  WORKER_PLAIN_ENV,
  WORKER_SECRET_ENV,
} from '../../../../lib/chat-synapse/workers';

const input: HomeserverConfigInput = { serverName: 'thephenom.app', publicBaseUrl: 'https://chat.thephenom.app', awsRegion: 'us-east-1', historyRetentionDays: 90 };
const domain = 'synapse.phenom-prod.internal';
const layout = (over: Partial<SynapseWorkerLayout> = {}): SynapseWorkerLayout => ({
  counts: { generic: 3, 'federation-sender': 1, media: 1, 'event-persister': 2 },
  discoveryDomain: domain,
  synapseVersion: '1.142.0',
  ...over,
});
const KNOWN_ENV = new Set<string>([...Object.values(HOMESERVER_SECRET_ENV), ...Object.values(HOMESERVER_PLAIN_ENV), ...Object.values(WORKER_SECRET_ENV), ...Object.values(WORKER_PLAIN_ENV)]);
const { listeners: _mainListeners, ...sharedBase } = JSON.parse(JSON.stringify(buildHomeserverConfig(input)));

describe('Synapse worker configs (one source for every process)', () => {
  it('renders the main process byte for byte as today when there is no layout', () => {
    expect(renderMainProcessYaml(input)).toBe(renderHomeserverYaml(input));
  });

  describe('main process, Synapse 1.142', () => {
    const main = parse(renderMainProcessYaml(input, layout()));

    it('keeps every key of the single-process config and adds the replication listener', () => {
      const single = parse(renderHomeserverYaml(input));
      for (const [key, value] of Object.entries(single)) if (key !== 'listeners') expect(main[key]).toEqual(value);
      expect(main.listeners.slice(0, single.listeners.length)).toEqual(single.listeners);
      expect(main.listeners.slice(single.listeners.length)).toEqual([
        { port: SYNAPSE_REPLICATION_PORT, type: 'http', tls: false, bind_addresses: ['0.0.0.0'], x_forwarded: false, resources: [{ names: ['replication'], compress: false }] },
      ]);
    });

    it('maps main and every stream writer to its Cloud Map name, and makes the persisters the events writers', () => {
      expect(main.instance_map).toEqual({
        main: { host: `homeserver.${domain}`, port: 9093 },
        'event-persister-1': { host: `event-persister-1.${domain}`, port: 9093 },
        'event-persister-2': { host: `event-persister-2.${domain}`, port: 9093 },
      });
      expect(main.stream_writers).toEqual({ events: ['event-persister-1', 'event-persister-2'] });
    });

    it('moves federation sending and the media repository off the main process', () => {
      expect(main.federation_sender_instances).toEqual(['federation-sender-1']);
      expect(main.enable_media_repo).toBe(false);
      expect(main.media_instance_running_background_jobs).toBe('media-1');
      expect(main.run_background_tasks_on).toBeUndefined();
    });

    it('reaches Redis over TLS with the auth token and host from the environment and a numeric port', () => {
      expect(main.redis).toEqual({ enabled: true, host: '${SYNAPSE_REDIS_HOST}', port: 6379, password: '${SYNAPSE_REDIS_PASSWORD}', use_tls: true });
      expect(main.worker_replication_secret).toBe('${SYNAPSE_REPLICATION_SECRET}');
    });

    it('takes plain Redis values from the layout', () => {
      const m = buildMainProcessConfig(input, layout({ redis: { host: 'redis.example.internal', port: 6380, tls: false } }));
      expect(m.redis).toEqual({ enabled: true, host: 'redis.example.internal', port: 6380, password: '${SYNAPSE_REDIS_PASSWORD}', use_tls: false });
    });

    it('leaves out what a kind with no workers would set', () => {
      const m = buildMainProcessConfig(input, layout({ counts: { generic: 2 } }));
      expect(m.instance_map).toEqual({ main: { host: `homeserver.${domain}`, port: 9093 } });
      for (const key of ['stream_writers', 'federation_sender_instances', 'enable_media_repo', 'media_instance_running_background_jobs']) expect(m).not.toHaveProperty(key);
    });

    it('holds no placeholder the container environment does not provide', () => {
      for (const name of placeholdersIn(renderMainProcessYaml(input, layout()))) expect(KNOWN_ENV).toContain(name);
    });
  });

  describe('workers, Synapse 1.142', () => {
    const processes = synapseWorkerProcesses(layout());
    const worker = (service: string) => parse(renderWorkerYaml(input, layout(), service));

    it('lists one service per named process and one scalable service for the generic workers', () => {
      expect(processes.map((p) => [p.serviceName, p.workerApp, p.desiredCount, p.scalable, p.replicationListener, p.servesClients])).toEqual([
        ['generic', 'synapse.app.generic_worker', 3, true, false, true],
        ['federation-sender-1', 'synapse.app.generic_worker', 1, false, false, false],
        ['media-1', 'synapse.app.media_repository', 1, false, false, true],
        ['event-persister-1', 'synapse.app.generic_worker', 1, false, true, false],
        ['event-persister-2', 'synapse.app.generic_worker', 1, false, true, false],
      ]);
    });

    it.each(['generic', 'federation-sender-1', 'media-1', 'event-persister-1'])('%s shares every key of the main process but its listeners', (service) => {
      const w = worker(service);
      const main = parse(renderMainProcessYaml(input, layout()));
      for (const [key, value] of Object.entries(main)) if (key !== 'listeners') expect(w[key]).toEqual(value);
      expect(w).not.toHaveProperty('listeners');
      for (const key of Object.keys(sharedBase)) expect(w).toHaveProperty(key);
      // 1.142 refuses these outright (synapse/config/workers.py: WORKER_REPLICATION_SETTING_DEPRECATED_MESSAGE)
      expect(w).not.toHaveProperty('worker_replication_host');
      expect(w).not.toHaveProperty('worker_replication_http_port');
    });

    it('gives a generic worker a per-task name and the client listener behind the edge proxy', () => {
      const w = worker('generic');
      expect(w.worker_app).toBe('synapse.app.generic_worker');
      expect(w.worker_name).toBe('generic-${SYNAPSE_WORKER_INSTANCE}');
      // the main process's own listeners (loopback HTTP behind the edge proxy, metrics), so one edge proxy image serves both
      expect(w.worker_listeners).toEqual(parse(renderHomeserverYaml(input)).listeners);
    });

    it('gives the media worker the media resource, and a stream writer its replication listener', () => {
      expect(worker('media-1').worker_app).toBe('synapse.app.media_repository');
      expect(worker('media-1').worker_listeners[0].resources).toEqual([{ names: ['media'], compress: false }]);
      const persister = worker('event-persister-2');
      expect(persister.worker_name).toBe('event-persister-2');
      expect(persister.worker_listeners[0].resources).toEqual([]);
      expect(persister.worker_listeners[2]).toMatchObject({ port: 9093, bind_addresses: ['0.0.0.0'], resources: [{ names: ['replication'], compress: false }] });
      expect(worker('federation-sender-1').worker_listeners.map((l: { port: number }) => l.port)).toEqual([8009, 9000]);
    });

    it('refuses a service the layout does not have', () => {
      expect(() => buildWorkerConfig(input, layout({ counts: { generic: 1 } }), 'media-1')).toThrow('the layout has no worker service media-1 (it has: generic)');
    });
  });

  describe('Synapse 1.67 (the local real homeserver)', () => {
    const old = layout({ synapseVersion: '1.67.0', redis: { tls: false } });

    it('points workers at the main process with worker_replication_*, and keeps main out of instance_map', () => {
      const w = parse(renderWorkerYaml(input, old, 'generic'));
      expect(w.worker_replication_host).toBe(`homeserver.${domain}`);
      expect(w.worker_replication_http_port).toBe(9093);
      expect(w.instance_map).toEqual({ 'event-persister-1': { host: `event-persister-1.${domain}`, port: 9093 }, 'event-persister-2': { host: `event-persister-2.${domain}`, port: 9093 } });
    });

    it('has no redis.use_tls, and refuses TLS it could not speak', () => {
      expect(buildMainProcessConfig(input, old).redis).toEqual({ enabled: true, host: '${SYNAPSE_REDIS_HOST}', port: 6379, password: '${SYNAPSE_REDIS_PASSWORD}' });
      expect(() => buildMainProcessConfig(input, layout({ synapseVersion: '1.67.0' }))).toThrow('Synapse 1.67.0 cannot talk TLS to Redis (redis.use_tls arrived in 1.84); set redis.tls false for it');
    });
  });

  it.each<[string, Partial<SynapseWorkerLayout>, string]>([
    ['two media workers', { counts: { media: 2 } }, 'workers.media must be 0 or 1'],
    ['a negative count', { counts: { generic: -1 } }, 'workers.generic must be a whole number from 0 to 20, got -1'],
    ['a fractional count', { counts: { generic: 1.5 } }, 'workers.generic must be a whole number'],
    ['too many', { counts: { 'event-persister': 21 } }, 'workers.event-persister must be a whole number from 0 to 20, got 21'],
    ['an unknown kind', { counts: { generic: 1, pusher: 1 } as never }, 'unknown worker kind pusher'],
    ['no worker at all', { counts: { generic: 0 } }, 'a worker layout needs at least one worker'],
    ['a bad domain', { discoveryDomain: 'Synapse_Internal' }, 'discoveryDomain must be a lower-case DNS name'],
    ['a bad version', { synapseVersion: 'latest' }, 'a Synapse version must look like 1.142.0, got "latest"'],
    ['a version older than 1.67', { synapseVersion: '1.50.0', redis: { tls: false } }, 'Synapse 1.50 is older than any release'],
    ['a bad Redis port', { redis: { port: 0 } }, 'redis.port must be a TCP port, got 0'],
    ['a bad Redis host', { redis: { host: 'redis host' } }, 'redis.host must be a host name or address'],
  ])('refuses %s', (_, over, message) => {
    expect(() => renderMainProcessYaml(input, layout(over))).toThrow(message);
    expect(() => synapseWorkerProcesses(layout(over))).toThrow(message);
  });
});
