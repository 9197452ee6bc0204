import type { BackendFactory } from '../types';
import { SynapseBackend } from './backend';
import { synapseBackendConfig } from './config';
import { MatrixClient } from './matrix-client';

export { SynapseBackend } from './backend';
export { synapseBackendConfig } from './config';

/** BACKEND_TYPE=synapse: the Matrix client-server API as the admin bot (see config.ts for the keys). */
export const createSynapseBackend: BackendFactory = async (ctx) => {
  const config = synapseBackendConfig(ctx.env);
  const backend = new SynapseBackend({
    client: new MatrixClient({ baseUrl: config.homeserverUrl, accessToken: config.accessToken }),
    roomAliases: config.roomAliases,
    log: ctx.log,
  });
  ctx.log.info('synapse backend configured', { homeserver: config.homeserverUrl, rooms: config.roomAliases });
  return backend;
};
