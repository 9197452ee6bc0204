import type { BackendFactory } from '../types';
import { SynapseBackend } from './backend';
import { synapseBackendConfig } from './config';
import { MatrixClient } from '../../../../../chat-clients/matrix-client';

export { SynapseBackend } from './backend';

/**
 * Synapse answers client-API calls in milliseconds and /messages pages of 100 in well under a
 * second; 10 s bounds a stuck homeserver so a tool reports "backend unavailable" long before an
 * MCP client gives up, and inside the ALB's idle timeout and the 30 s shutdown drain.
 */
export const MATRIX_TIMEOUT_MS = 10_000;
/** A rate-limited call is retried once when Synapse asks for at most this wait. */
const MAX_RETRY_AFTER_MS = 2_000;
export { synapseBackendConfig } from './config';

/** BACKEND_TYPE=synapse: the Matrix client-server API as the admin bot (see config.ts for the keys). */
export const createSynapseBackend: BackendFactory = async (ctx) => {
  const config = synapseBackendConfig(ctx.env);
  const backend = new SynapseBackend({
    client: new MatrixClient({ baseUrl: config.homeserverUrl, accessToken: config.accessToken, timeoutMs: MATRIX_TIMEOUT_MS, rateLimitRetryMaxMs: MAX_RETRY_AFTER_MS }),
    roomAliases: config.roomAliases,
    log: ctx.log,
  });
  ctx.log.info('synapse backend configured', { homeserver: config.homeserverUrl, rooms: config.roomAliases });
  return backend;
};
