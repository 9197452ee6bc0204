/** The environment the hasura backend reads (ECS fills the agent credentials from Secrets Manager). */
export interface HasuraBackendConfig {
  readonly endpoint: string;
  readonly cognitoEndpoint: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly username: string;
  readonly password: string;
}

const USER_POOL_REGION = /^([a-z]{2}(?:-gov)?-[a-z]+-\d)_[A-Za-z0-9]+$/;

/**
 * Reads HASURA_ENDPOINT, AGENT_CLIENT_ID, AGENT_CLIENT_SECRET (optional: a client without a
 * secret), AGENT_USERNAME, AGENT_PASSWORD, and where Cognito is: COGNITO_IDP_ENDPOINT when set,
 * else https://cognito-idp.<region>.amazonaws.com/ with the region of COGNITO_USER_POOL_ID
 * (or AWS_REGION). Throws one error naming every missing or bad key, never echoing a secret.
 */
export function hasuraBackendConfig(env: NodeJS.ProcessEnv): HasuraBackendConfig {
  const problems: string[] = [];
  const required = (key: string): string => {
    const value = env[key]?.trim();
    if (!value) problems.push(`${key} is required for BACKEND_TYPE=hasura`);
    return value ?? '';
  };
  const endpoint = required('HASURA_ENDPOINT');
  if (endpoint && !/^https?:\/\/[^\s]+$/.test(endpoint)) problems.push('HASURA_ENDPOINT must be an http(s) URL such as http://hasura.internal:8080/v1/graphql');
  const clientId = required('AGENT_CLIENT_ID');
  const username = required('AGENT_USERNAME');
  const password = required('AGENT_PASSWORD');

  let cognitoEndpoint = env.COGNITO_IDP_ENDPOINT?.trim();
  if (cognitoEndpoint && !/^https?:\/\/[^\s]+$/.test(cognitoEndpoint)) problems.push('COGNITO_IDP_ENDPOINT must be an http(s) URL');
  if (!cognitoEndpoint) {
    const region = USER_POOL_REGION.exec(env.COGNITO_USER_POOL_ID ?? '')?.[1] ?? env.AWS_REGION?.trim();
    if (region) cognitoEndpoint = `https://cognito-idp.${region}.amazonaws.com/`;
    else problems.push('COGNITO_USER_POOL_ID (or AWS_REGION, or COGNITO_IDP_ENDPOINT) is required to find Cognito for BACKEND_TYPE=hasura');
  }
  if (problems.length) throw new Error(`invalid hasura backend configuration:\n  ${problems.join('\n  ')}`);
  return { endpoint, cognitoEndpoint: cognitoEndpoint!, clientId, clientSecret: env.AGENT_CLIENT_SECRET?.trim() || undefined, username, password };
}
