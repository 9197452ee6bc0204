import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Synapse release, as `major.minor.patch`. */
export interface SynapseVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)$/;

export function parseSynapseVersion(text: string): SynapseVersion {
  const m = VERSION.exec(text.trim());
  if (!m) throw new Error(`a Synapse version must look like 1.142.0, got ${JSON.stringify(text)}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

const atLeast = (v: SynapseVersion, major: number, minor: number) => v.major > major || (v.major === major && v.minor >= minor);

/**
 * The worker keys whose spelling depends on the release (docs/upgrade.md and synapse/config/{workers,redis}.py
 * at each tag). Only these switch; everything else is the same in 1.67 and 1.142.
 */
export interface SynapseWorkerFeatures {
  /**
   * 1.84 added `instance_map.main` and deprecated the workers' `worker_replication_host` /
   * `worker_replication_http_port`; 1.88 refuses those keys, and 1.67 does not know `main`.
   */
  readonly mainInInstanceMap: boolean;
  /** `redis.use_tls` first appears in 1.84; 1.67 ignores the key and talks plain TCP. */
  readonly redisTls: boolean;
}

export function synapseWorkerFeatures(version: SynapseVersion): SynapseWorkerFeatures {
  if (!atLeast(version, 1, 67)) throw new Error(`Synapse ${version.major}.${version.minor} is older than any release this app was checked against (1.67)`);
  return { mainInInstanceMap: atLeast(version, 1, 84), redisTls: atLeast(version, 1, 84) };
}

const PIN = /^FROM\s+matrixdotorg\/synapse:(v\d+\.\d+\.\d+)\s*$/m;

/** The release the image is built from: the `FROM matrixdotorg/synapse:vX.Y.Z` line of a Dockerfile. */
export function synapseVersionFromDockerfile(dockerfile: string): SynapseVersion {
  const m = PIN.exec(dockerfile);
  if (!m) throw new Error('the Synapse Dockerfile has no FROM matrixdotorg/synapse:vX.Y.Z line');
  return parseSynapseVersion(m[1]);
}

/** The release docker/synapse/Dockerfile pins: the one production runs. */
export function synapseImageVersion(): SynapseVersion {
  return synapseVersionFromDockerfile(readFileSync(join(__dirname, '../../../docker/synapse/Dockerfile'), 'utf8'));
}
