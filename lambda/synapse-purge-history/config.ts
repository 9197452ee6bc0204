import { RoomSelection } from './purge';

/** The handler's settings, from the environment the construct sets. */
export interface PurgeConfig {
  readonly synapseUrl: string;
  readonly adminTokenSecretArn: string;
  /** The JSON key of the admin token in the secret; unset when the secret is the bare token. */
  readonly adminTokenSecretKey?: string;
  readonly retentionDays: number;
  readonly rooms: RoomSelection;
}

/** Reads and checks the environment; throws naming the variable that is wrong. */
export function purgeConfigFromEnv(env: Record<string, string | undefined>): PurgeConfig {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} must be set`);
    return value;
  };
  const synapseUrl = required('SYNAPSE_URL');
  if (!/^https?:\/\/[^/\s]+/.test(synapseUrl)) throw new Error(`SYNAPSE_URL must be an absolute http(s) URL, got "${synapseUrl}"`);
  const retentionDays = Number(required('RETENTION_DAYS'));
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`RETENTION_DAYS must be a positive integer, got "${env.RETENTION_DAYS}"`);
  const aliases = (env.ROOM_ALIASES ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = aliases.find((a) => !/^#[^:\s]+:[^\s]+$/.test(a));
  if (bad) throw new Error(`ROOM_ALIASES: "${bad}" is not a room alias of the form #local:server`);
  if (aliases.length === 0 && env.PURGE_ALL_ROOMS !== 'true') throw new Error('set ROOM_ALIASES (comma-separated) or PURGE_ALL_ROOMS=true');
  return {
    synapseUrl,
    adminTokenSecretArn: required('ADMIN_TOKEN_SECRET_ARN'),
    adminTokenSecretKey: env.ADMIN_TOKEN_SECRET_KEY_NAME?.trim() || undefined,
    retentionDays,
    rooms: aliases.length > 0 ? { kind: 'aliases', aliases } : { kind: 'all' },
  };
}

/** Picks the admin token out of the secret's value (a bare token, or a JSON object with `key`). */
export function adminTokenFromSecret(secretValue: string | undefined, key: string | undefined): string {
  if (!secretValue) throw new Error('the admin token secret is empty');
  if (!key) return secretValue.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretValue);
  } catch {
    throw new Error(`the admin token secret is not JSON, but ADMIN_TOKEN_SECRET_KEY_NAME is set to "${key}"`);
  }
  const token = (parsed as Record<string, unknown> | null)?.[key];
  if (typeof token !== 'string' || !token) throw new Error(`the admin token secret has no string key "${key}"`);
  return token;
}
