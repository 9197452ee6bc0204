import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { lazyPool } from '../shared/database';
import { adminTokenFromSecret } from '../synapse-purge-history/config';
import { createReconcilerHandler } from './handler';
import { SynapseMembershipClient } from './synapse-client';

function env(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

const synapseUrl = env('SYNAPSE_URL');
const tokenSecretArn = env('BOT_TOKEN_SECRET_ARN');
const tokenSecretKey = env('BOT_TOKEN_SECRET_KEY_NAME');

/** Membership reconciler: Cognito groups → Hasura Lite rows and Synapse room memberships/power levels. */
export const handler = createReconcilerHandler({
  // Adaptive retries back off when Cognito throttles the listing (its quotas are per account, shared with every app).
  cognito: new CognitoIdentityProviderClient({ retryMode: 'adaptive', maxAttempts: 5 }),
  userPoolId: env('USER_POOL_ID'),
  pool: lazyPool({ connectionTimeoutMillis: 5_000, statement_timeout: 10_000, query_timeout: 15_000 }),
  // Cached for 5 minutes by Powertools: a token the bootstrap replaced is picked up on a later run.
  synapse: async () => new SynapseMembershipClient({ baseUrl: synapseUrl, timeoutMs: 10_000 }, adminTokenFromSecret(await getSecret<string>(tokenSecretArn, { maxAge: 300 }), tokenSecretKey)),
  synapseOidcClientId: process.env.SYNAPSE_OIDC_CLIENT_ID?.trim() || undefined,
  logger: new Logger(),
  metrics: new Metrics(),
});
