// The sidecar's settings, from its container environment (lib/chat-synapse/synapse-metrics-sidecar.ts sets them).
import process from 'node:process';
import { URL } from 'node:url';

export const DEFAULT_HEARTBEAT_FILE = '/tmp/synapse-metrics.heartbeat';

/** The settings, or an Error naming the variable that is wrong. */
export function readConfig(env = process.env) {
  const url = env.SYNAPSE_METRICS_URL ?? 'http://127.0.0.1:9000/_synapse/metrics';
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`SYNAPSE_METRICS_URL is not a URL: ${JSON.stringify(url)}`);
  }
  // The listener is the task's own loopback; anything else would send the scrape off the task.
  if (parsed.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new Error(`SYNAPSE_METRICS_URL must be http on the loopback (127.0.0.1), got ${JSON.stringify(url)}`);
  }
  const environment = env.AB_ENVIRONMENT ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,254}$/.test(environment)) throw new Error(`AB_ENVIRONMENT must be the stack prefix (letters, digits, "-"), got ${JSON.stringify(environment)}`);
  const raw = env.SCRAPE_INTERVAL_SECONDS ?? '60';
  const intervalSeconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || intervalSeconds <= 0 || intervalSeconds > 3600) throw new Error(`SCRAPE_INTERVAL_SECONDS must be a number of seconds from 0 to 3600, got ${JSON.stringify(raw)}`);
  return { url: parsed.toString(), environment, intervalMs: intervalSeconds * 1000, heartbeatFile: env.HEARTBEAT_FILE || DEFAULT_HEARTBEAT_FILE };
}
