import { parseSynapseVersion, SynapseVersion, synapseWorkerFeatures, SynapseWorkerFeatures } from './version';

/**
 * The worker kinds this app runs (docs/workers.md), all `synapse.app.generic_worker` except media:
 * - `generic`: sync and client reads; N identical tasks of one service, behind the ALB;
 * - `federation-sender`: outbound federation (`federation_sender_instances`), no HTTP routes;
 * - `media`: `synapse.app.media_repository`, the only process that serves and stores media;
 * - `event-persister`: a stream writer for `events` (in `instance_map`, reached over replication).
 */
export type SynapseWorkerKind = 'generic' | 'federation-sender' | 'media' | 'event-persister';
export const SYNAPSE_WORKER_KINDS: readonly SynapseWorkerKind[] = ['generic', 'federation-sender', 'media', 'event-persister'];

/** Where Synapse reaches Redis (ElastiCache): TLS and an auth token, from the container environment. */
export interface SynapseRedisEndpoint {
  /** A plain host name, or (the default) the `${SYNAPSE_REDIS_HOST}` placeholder filled at container start. */
  readonly host?: string;
  /**
   * A number, never a placeholder: Synapse hands it to Twisted's connectTCP/connectSSL, which reads a string
   * port as a service name. @default 6379
   */
  readonly port?: number;
  /** @default true. Only Synapse >= 1.84 can (`redis.use_tls`); asking for it on an older release is an error. */
  readonly tls?: boolean;
}

export interface SynapseWorkerLayout {
  /** Processes per kind; kinds left out run none. */
  readonly counts: Readonly<Partial<Record<SynapseWorkerKind, number>>>;
  /** The Cloud Map namespace every Synapse process registers in, e.g. `synapse.<prefix>.internal`. */
  readonly discoveryDomain: string;
  readonly redis?: SynapseRedisEndpoint;
  /** The release the configs are for: keys that changed between releases follow it (version.ts). */
  readonly synapseVersion: string | SynapseVersion;
}

/** The most tasks of one kind; beyond that the database connection budget, not the layout, is the question. */
export const MAX_WORKERS_PER_KIND = 20;

export interface ResolvedLayout {
  readonly counts: Readonly<Record<SynapseWorkerKind, number>>;
  readonly discoveryDomain: string;
  readonly redis: { readonly host: string; readonly port: number; readonly tls: boolean };
  readonly features: SynapseWorkerFeatures;
}

const DNS_NAME = /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/** Checks a layout once, so every renderer below works from the same validated values. */
export function resolveLayout(layout: SynapseWorkerLayout, redisHostPlaceholder: string): ResolvedLayout {
  const counts = {} as Record<SynapseWorkerKind, number>;
  for (const kind of SYNAPSE_WORKER_KINDS) {
    const n = layout.counts[kind] ?? 0;
    if (!Number.isInteger(n) || n < 0 || n > MAX_WORKERS_PER_KIND) throw new Error(`workers.${kind} must be a whole number from 0 to ${MAX_WORKERS_PER_KIND}, got ${n}`);
    counts[kind] = n;
  }
  for (const key of Object.keys(layout.counts)) {
    if (!SYNAPSE_WORKER_KINDS.includes(key as SynapseWorkerKind)) throw new Error(`unknown worker kind ${key} (known: ${SYNAPSE_WORKER_KINDS.join(', ')})`);
  }
  // docs/workers.md: several media repositories must share one server's disk; our tasks each have their own.
  if (counts.media > 1) throw new Error(`workers.media must be 0 or 1 (several media repositories must share one disk), got ${counts.media}`);
  if (SYNAPSE_WORKER_KINDS.every((k) => counts[k] === 0)) throw new Error('a worker layout needs at least one worker; leave the layout out for a single process');
  if (!DNS_NAME.test(layout.discoveryDomain)) throw new Error(`discoveryDomain must be a lower-case DNS name such as synapse.phenom-dev.internal, got ${layout.discoveryDomain}`);

  const version = typeof layout.synapseVersion === 'string' ? parseSynapseVersion(layout.synapseVersion) : layout.synapseVersion;
  const features = synapseWorkerFeatures(version);
  const port = layout.redis?.port ?? 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`redis.port must be a TCP port, got ${port}`);
  const tls = layout.redis?.tls ?? true;
  if (tls && !features.redisTls) {
    throw new Error(`Synapse ${version.major}.${version.minor}.${version.patch} cannot talk TLS to Redis (redis.use_tls arrived in 1.84); set redis.tls false for it`);
  }
  const host = layout.redis?.host ?? redisHostPlaceholder;
  if (host !== redisHostPlaceholder && !/^[a-z0-9.-]{1,253}$/.test(host)) throw new Error(`redis.host must be a host name or address, got ${host}`);
  return { counts, discoveryDomain: layout.discoveryDomain, redis: { host, port, tls }, features };
}
