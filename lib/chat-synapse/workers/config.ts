import { stringify } from 'yaml';
import { buildHomeserverConfig, HomeserverConfig, HomeserverConfigInput, renderHomeserverYaml, SYNAPSE_INTERNAL_PORT } from '../homeserver-config';
import { resolveLayout, ResolvedLayout, SynapseWorkerKind, SynapseWorkerLayout } from './layout';

/** The container environment the worker keys refer to, filled by docker/synapse/render-config.py like the rest. */
export const WORKER_SECRET_ENV = {
  /** ElastiCache's auth token. */
  redisPassword: 'SYNAPSE_REDIS_PASSWORD',
  /** Authenticates replication HTTP between the processes (docs/workers.md: unauthenticated without it). */
  replicationSecret: 'SYNAPSE_REPLICATION_SECRET',
} as const;

export const WORKER_PLAIN_ENV = {
  /** ElastiCache's primary endpoint, known once CloudFormation resolves it. */
  redisHost: 'SYNAPSE_REDIS_HOST',
  /**
   * Unique to one task. render-config.py fills it from the task's host name when the environment does not set
   * it: a scalable kind runs N identical tasks from one task definition, and Synapse needs one worker_name each.
   */
  workerInstance: 'SYNAPSE_WORKER_INSTANCE',
} as const;

/**
 * The replication listener (`resources: [replication]`) of the main process and every stream writer. It binds
 * every interface so the other tasks reach it; only the Synapse tasks' security group may (the infra side).
 */
export const SYNAPSE_REPLICATION_PORT = 9093;

/** The main process's Cloud Map name (synapse-service.ts registers it; the Lambdas call it there too). */
export const SYNAPSE_MAIN_DISCOVERY_NAME = 'homeserver';
/** The main process's name in `instance_map` (synapse/config/workers.py, MAIN_PROCESS_INSTANCE_MAP_NAME). */
const MAIN_INSTANCE = 'main';

const GENERIC_WORKER_APP = 'synapse.app.generic_worker';
const MEDIA_WORKER_APP = 'synapse.app.media_repository';

const ph = (name: string) => `\${${name}}`;

/** One ECS service's worth of Synapse processes: a fixed-name process, or N identical generic tasks. */
export interface SynapseWorkerProcess {
  readonly kind: SynapseWorkerKind;
  /** A name for the ECS service and its Cloud Map entry, e.g. `generic`, `event-persister-1`. */
  readonly serviceName: string;
  /** The `worker_name` in the YAML; for a scalable kind it ends in the `${SYNAPSE_WORKER_INSTANCE}` placeholder. */
  readonly workerName: string;
  /** How many tasks: N for `generic`, else 1 (a named instance is one process). */
  readonly desiredCount: number;
  /** Whether more tasks of this service may run (only `generic`: the rest are named in the shared config). */
  readonly scalable: boolean;
  /** Whether the process serves replication on SYNAPSE_REPLICATION_PORT (stream writers); its Cloud Map name is then required. */
  readonly replicationListener: boolean;
  /**
   * Whether the ALB sends it requests (synapseWorkerRouteGroups). Such a task needs the edge proxy
   * (docker/synapse-edge) as the main task has: Synapse listens on 127.0.0.1:8009 only and trusts the
   * proxy's X-Forwarded-For. The others answer only their container health check on 127.0.0.1:8009/health.
   */
  readonly servesClients: boolean;
  readonly workerApp: string;
}

/** Every worker process the layout asks for, in a stable order (kind, then number). */
export function synapseWorkerProcesses(layout: SynapseWorkerLayout): SynapseWorkerProcess[] {
  return processesOf(resolveLayout(layout, ph(WORKER_PLAIN_ENV.redisHost)));
}

function processesOf(l: ResolvedLayout): SynapseWorkerProcess[] {
  const named = (kind: SynapseWorkerKind, workerApp: string, replicationListener: boolean) =>
    Array.from({ length: l.counts[kind] }, (_, i) => {
      const name = `${kind}-${i + 1}`;
      return { kind, serviceName: name, workerName: name, desiredCount: 1, scalable: false, replicationListener, servesClients: kind === 'media', workerApp };
    });
  return [
    ...(l.counts.generic > 0
      ? [
          {
            kind: 'generic' as const,
            serviceName: 'generic',
            workerName: `generic-${ph(WORKER_PLAIN_ENV.workerInstance)}`,
            desiredCount: l.counts.generic,
            scalable: true,
            replicationListener: false,
            servesClients: true,
            workerApp: GENERIC_WORKER_APP,
          },
        ]
      : []),
    ...named('federation-sender', GENERIC_WORKER_APP, false),
    ...named('media', MEDIA_WORKER_APP, false),
    ...named('event-persister', GENERIC_WORKER_APP, true),
  ];
}

const hostOf = (l: ResolvedLayout, serviceName: string) => `${serviceName}.${l.discoveryDomain}`;

/** The keys every process shares (the main process's file holds them; each worker's file repeats them). */
function sharedWorkerKeys(l: ResolvedLayout, processes: SynapseWorkerProcess[]): Record<string, unknown> {
  const writers = processes.filter((p) => p.kind === 'event-persister');
  const senders = processes.filter((p) => p.kind === 'federation-sender');
  const media = processes.find((p) => p.kind === 'media');
  const instanceMap: Record<string, { host: string; port: number }> = {};
  if (l.features.mainInInstanceMap) instanceMap[MAIN_INSTANCE] = { host: hostOf(l, SYNAPSE_MAIN_DISCOVERY_NAME), port: SYNAPSE_REPLICATION_PORT };
  for (const w of writers) instanceMap[w.workerName] = { host: hostOf(l, w.serviceName), port: SYNAPSE_REPLICATION_PORT };
  return {
    worker_replication_secret: ph(WORKER_SECRET_ENV.replicationSecret),
    redis: {
      enabled: true,
      host: l.redis.host,
      port: l.redis.port,
      password: ph(WORKER_SECRET_ENV.redisPassword),
      ...(l.features.redisTls ? { use_tls: l.redis.tls } : {}),
    },
    ...(Object.keys(instanceMap).length > 0 ? { instance_map: instanceMap } : {}),
    ...(writers.length > 0 ? { stream_writers: { events: writers.map((w) => w.workerName) } } : {}),
    // Listing the senders takes outbound federation off the main process (synapse/config/workers.py).
    ...(senders.length > 0 ? { federation_sender_instances: senders.map((s) => s.workerName) } : {}),
    // The main process then neither serves media nor runs media jobs; the media worker does both.
    ...(media ? { enable_media_repo: false, media_instance_running_background_jobs: media.workerName } : {}),
    // Background tasks, pushers, the user directory and appservice notifications stay on the main process
    // (Synapse's defaults): each may run on one process only, and the main process is always exactly one.
  };
}

/** The typed config plus the worker keys of the main process: its replication listener and the shared keys. */
export function buildMainProcessConfig(input: HomeserverConfigInput, layout: SynapseWorkerLayout): Record<string, unknown> {
  const l = resolveLayout(layout, ph(WORKER_PLAIN_ENV.redisHost));
  const base = buildHomeserverConfig(input);
  return {
    ...base,
    listeners: [...base.listeners, replicationListener()],
    ...sharedWorkerKeys(l, processesOf(l)),
  };
}

/**
 * The main process's homeserver.yaml. Without a layout it is renderHomeserverYaml's text, byte for byte:
 * a single-process deployment's template does not change.
 */
export function renderMainProcessYaml(input: HomeserverConfigInput, layout?: SynapseWorkerLayout): string {
  if (!layout) return renderHomeserverYaml(input);
  return stringify(buildMainProcessConfig(input, layout), { lineWidth: 0 });
}

function replicationListener() {
  return { port: SYNAPSE_REPLICATION_PORT, type: 'http' as const, tls: false, bind_addresses: ['0.0.0.0'], x_forwarded: false, resources: [{ names: ['replication'], compress: false }] };
}

type HttpListener = Extract<HomeserverConfig['listeners'][number], { type: 'http' }>;

/** The worker's own listeners: the main process's loopback HTTP listener (behind the same edge proxy) and metrics. */
function workerListeners(base: HomeserverConfig, p: SynapseWorkerProcess): unknown[] {
  const http = base.listeners.find((x): x is HttpListener => x.type === 'http' && x.port === SYNAPSE_INTERNAL_PORT);
  if (!http) throw new Error('the homeserver config has no internal HTTP listener to give the workers');
  // /health is served on every HTTP listener whatever its resources (synapse/app/generic_worker.py), so the
  // federation sender and event persisters keep one for their container health check and serve nothing else.
  const names = p.kind === 'generic' ? ['client', 'federation'] : p.kind === 'media' ? ['media'] : [];
  return [
    { ...http, resources: names.length > 0 ? [{ names, compress: false }] : [] },
    ...base.listeners.filter((x) => x.type === 'metrics'),
    ...(p.replicationListener ? [replicationListener()] : []),
  ];
}

/** A worker's complete config file: the shared config (without the main process's listeners) and its own keys. */
export function buildWorkerConfig(input: HomeserverConfigInput, layout: SynapseWorkerLayout, serviceName: string): Record<string, unknown> {
  const l = resolveLayout(layout, ph(WORKER_PLAIN_ENV.redisHost));
  const processes = processesOf(l);
  const p = processes.find((x) => x.serviceName === serviceName);
  if (!p) throw new Error(`the layout has no worker service ${serviceName} (it has: ${processes.map((x) => x.serviceName).join(', ') || 'none'})`);
  const base = buildHomeserverConfig(input);
  const { listeners: _mainListeners, ...shared } = base;
  return {
    ...shared,
    ...sharedWorkerKeys(l, processes),
    worker_app: p.workerApp,
    worker_name: p.workerName,
    worker_listeners: workerListeners(base, p),
    // Before 1.84 a worker finds the main process's replication listener through these (1.88 refuses them).
    ...(l.features.mainInInstanceMap ? {} : { worker_replication_host: hostOf(l, SYNAPSE_MAIN_DISCOVERY_NAME), worker_replication_http_port: SYNAPSE_REPLICATION_PORT }),
  };
}

export function renderWorkerYaml(input: HomeserverConfigInput, layout: SynapseWorkerLayout, serviceName: string): string {
  return stringify(buildWorkerConfig(input, layout, serviceName), { lineWidth: 0 });
}
