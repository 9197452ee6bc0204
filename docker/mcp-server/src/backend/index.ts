import { createHasuraBackend } from './hasura';
import { createPostgresBackend } from './postgres';
import { createSynapseBackend } from './synapse';
import type { BackendContext, BackendFactory, ChatBackend } from './types';

/**
 * One factory per BACKEND_TYPE. Each backend lives in its own folder (postgres/, hasura/,
 * synapse/) and exports a BackendFactory that reads its own environment keys.
 */
const FACTORIES: Record<ChatBackend['kind'], BackendFactory> = {
  postgres: createPostgresBackend,
  hasura: createHasuraBackend,
  synapse: createSynapseBackend,
};

export async function createBackend(kind: ChatBackend['kind'], ctx: BackendContext): Promise<ChatBackend> {
  return FACTORIES[kind](ctx);
}
