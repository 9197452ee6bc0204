import { HasuraClient } from '../../../../../chat-clients/hasura-client';
import type { BackendFactory } from '../types';
import { HasuraBackend } from './backend';
import { CognitoTokenProvider } from './cognito-token';
import { hasuraBackendConfig } from './config';

export { HasuraBackend } from './backend';
export { CognitoTokenProvider } from './cognito-token';
export { hasuraBackendConfig } from './config';

/** BACKEND_TYPE=hasura: GraphQL to HASURA_ENDPOINT as the agent's Cognito identity (see config.ts for the keys). */
export const createHasuraBackend: BackendFactory = async (ctx) => {
  const config = hasuraBackendConfig(ctx.env);
  const tokens = new CognitoTokenProvider({
    endpoint: config.cognitoEndpoint,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    username: config.username,
    password: config.password,
  });
  const client = new HasuraClient({ endpoint: config.endpoint, tokens });
  ctx.log.info('hasura backend configured', { endpoint: config.endpoint, cognitoEndpoint: config.cognitoEndpoint, secretHash: Boolean(config.clientSecret) });
  return new HasuraBackend({ client, tokens });
};
