import { App, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { handler } from '../../../lambda/pre-token-generation';
import { hasuraJwtSecret } from '../../../lib/chat-hasura-lite/jwt';
import { metadataTables, OPERATIONS, permissions } from '../../hasura-metadata/metadata-model';

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

/** The Hasura session a token for these groups opens, read as the rendered JWT config tells Hasura to. */
async function sessionFor(groups: string[]): Promise<{ 'x-hasura-user-id': string; 'x-hasura-default-role': string; 'x-hasura-allowed-roles': string[] }> {
  const config = renderedJwtConfig();
  const event = await handler({
    version: '1',
    triggerSource: 'TokenGeneration_RefreshTokens',
    region: 'us-east-1',
    userPoolId: 'us-east-1_AbCdEfGhI',
    userName: 'a1b2',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'mobile' },
    request: { userAttributes: { sub: 'a1b2' }, groupConfiguration: { groupsToOverride: groups } },
    response: { claimsOverrideDetails: null as never },
  });
  const claim = event.response.claimsOverrideDetails.claimsToAddOrOverride?.[config.claims_namespace];
  expect(typeof claim).toBe('string');
  return JSON.parse(claim!);
}

it('emits the claims where, and in the format, the Hasura JWT config reads them', async () => {
  const config = renderedJwtConfig();
  expect(config).toMatchObject({ type: 'RS256', claims_format: 'stringified_json' });
  expect(config.claims_map).toBeUndefined();
  expect(await sessionFor(['chat-support', 'phenom-internal'])).toEqual({ 'x-hasura-user-id': 'a1b2', 'x-hasura-default-role': 'support', 'x-hasura-allowed-roles': ['user', 'support'] });
});

it('gives chat-admin the Hasura role chat_admin, which hasura-metadata/ grants, and never the reserved admin', async () => {
  const session = await sessionFor(['chat-admin']);
  expect(session).toEqual({ 'x-hasura-user-id': 'a1b2', 'x-hasura-default-role': 'chat_admin', 'x-hasura-allowed-roles': ['user', 'chat_admin'] });
  // Every role a token can carry has permissions in the metadata Hasura is given (a role without
  // any would see an empty schema); `admin` would be Hasura's unrestricted superuser instead.
  const granted = new Set([...metadataTables().values()].flatMap((t) => OPERATIONS.flatMap((op) => permissions(t, op).map((r) => r.role))));
  for (const groups of [['chat-admin'], ['chat-support'], [], ['chat-admin', 'chat-support', 'phenom-internal', 'phenom-partners']]) {
    for (const role of (await sessionFor(groups))['x-hasura-allowed-roles']) expect({ role, granted: granted.has(role) }).toEqual({ role, granted: true });
  }
  expect(granted.has('admin')).toBe(false);
});
