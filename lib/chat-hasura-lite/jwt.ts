import { Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';

/** The claim the pre-token-generation Lambda writes into the ID token (contract C3). */
export const HASURA_CLAIMS_NAMESPACE = 'https://hasura.io/jwt/claims';

/**
 * The value of HASURA_GRAPHQL_JWT_SECRET for Cognito ID tokens (contract C3).
 *
 * - RS256 keys come from the pool's JWKS. Hasura refetches it only when the JWKS response
 *   carries Cache-Control or Expires (fetchAndUpdateJWKs); without them it keeps the keys it
 *   fetched at start, so a rotated key needs a task restart. It says which in a jwk-refresh-log
 *   line, which is why the engine enables that log type.
 * - The issuer is the pool's `https://cognito-idp.<region>.amazonaws.com/<poolId>`.
 * - The pre-token trigger runs the V1_0 event, which can only add string claims, so
 *   the claims object arrives as a JSON string: `claims_format: stringified_json`
 *   (Hasura does not allow `claims_map` together with it).
 *
 * Nothing here is secret (it names public keys), so it is a plain environment variable.
 */
export function hasuraJwtSecret(userPool: cognito.IUserPool, audience?: readonly string[]): string {
  const stack = Stack.of(userPool);
  const issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${userPool.userPoolId}`;
  return stack.toJsonString({
    type: 'RS256',
    jwk_url: `${issuer}/.well-known/jwks.json`,
    issuer,
    claims_namespace: HASURA_CLAIMS_NAMESPACE,
    claims_format: 'stringified_json',
    ...(audience && audience.length > 0 ? { audience: audience.length === 1 ? audience[0] : [...audience] } : {}),
  });
}
