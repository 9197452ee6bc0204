import { App, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { handler } from '../../../lambda/pre-token-generation';
import { hasuraJwtSecret } from '../../../lib/chat-hasura-lite/jwt';

/**
 * Both ends of contract C3 at once: the HASURA_GRAPHQL_JWT_SECRET the Hasura construct
 * renders, and the ID-token claims this trigger emits, read the way that config tells
 * Hasura to read them.
 */
function renderedJwtConfig(): { claims_namespace: string; claims_format: string; claims_map?: unknown; type: string } {
  const stack = new Stack(new App(), 'JwtContract', { env: { region: 'us-east-1', account: '123456789012' } });
  const pool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'us-east-1_AbCdEfGhI');
  const resolved = stack.resolve(hasuraJwtSecret(pool)) as string | { 'Fn::Join': [string, unknown[]] };
  // Tokens (e.g. the URL suffix) sit inside JSON strings; any stand-in text keeps the JSON valid.
  const text = typeof resolved === 'string' ? resolved : resolved['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'token')).join('');
  return JSON.parse(text);
}

it('emits the claims where, and in the format, the Hasura JWT config reads them', async () => {
  const config = renderedJwtConfig();
  expect(config).toMatchObject({ type: 'RS256', claims_format: 'stringified_json' });
  expect(config.claims_map).toBeUndefined();

  const event = await handler({
    version: '1',
    triggerSource: 'TokenGeneration_RefreshTokens',
    region: 'us-east-1',
    userPoolId: 'us-east-1_AbCdEfGhI',
    userName: 'a1b2',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'mobile' },
    request: { userAttributes: { sub: 'a1b2' }, groupConfiguration: { groupsToOverride: ['chat-support', 'phenom-internal'] } },
    response: { claimsOverrideDetails: null as never },
  });
  const claim = event.response.claimsOverrideDetails.claimsToAddOrOverride?.[config.claims_namespace];
  expect(typeof claim).toBe('string');
  expect(JSON.parse(claim!)).toEqual({ 'x-hasura-user-id': 'a1b2', 'x-hasura-default-role': 'support', 'x-hasura-allowed-roles': ['user', 'support'] });
});
