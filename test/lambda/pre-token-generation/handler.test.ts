import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { handler } from '../../../lambda/pre-token-generation';
import { CapturedOutput, capturePowertoolsOutput } from '../../support/powertools-output';

const NAMESPACE = 'https://hasura.io/jwt/claims';
const SUB = '3f1c9a2e-8d4b-4c1a-9e7f-1a2b3c4d5e6f';

/** A V1_0 pre-token-generation event as the Cognito developer guide shows it. */
function tokenEvent(groups: string[] | undefined, overrides: Partial<PreTokenGenerationTriggerEvent> = {}): PreTokenGenerationTriggerEvent {
  return {
    version: '1',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'us-east-1',
    userPoolId: 'us-east-1_EXAMPLE',
    userName: SUB,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: '1example23456789' },
    request: {
      userAttributes: { sub: SUB, email: 'ada@example.com', email_verified: 'true', 'cognito:user_status': 'CONFIRMED' },
      groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [], preferredRole: undefined },
    },
    response: { claimsOverrideDetails: null as never },
    ...overrides,
  } as PreTokenGenerationTriggerEvent;
}

/**
 * What Hasura does with the ID token under `claims_format: stringified_json`: take the
 * string at the namespace and JSON.parse it. The token goes through base64url JSON
 * like a real JWT payload, so only string claims survive as Cognito V1 allows.
 */
function hasuraSession(event: PreTokenGenerationTriggerEvent): Record<string, unknown> {
  const added = event.response.claimsOverrideDetails?.claimsToAddOrOverride ?? {};
  for (const value of Object.values(added)) expect(typeof value).toBe('string');
  const payload = Buffer.from(JSON.stringify({ sub: SUB, token_use: 'id', ...added })).toString('base64url');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const claim = decoded[NAMESPACE];
  if (typeof claim !== 'string') throw new Error(`no stringified claim at ${NAMESPACE}`);
  return JSON.parse(claim) as Record<string, unknown>;
}

const GROUPS = ['chat-admin', 'chat-support', 'phenom-internal', 'phenom-partners'] as const;
const combinations = Array.from({ length: 1 << GROUPS.length }, (_, mask) => GROUPS.filter((_, i) => mask & (1 << i)));

describe('pre-token-generation handler (V1_0, stringified_json)', () => {
  it.each(combinations.map((groups) => [groups.join(',') || '(no groups)', groups] as const))('groups %s', async (_name, groups) => {
    const event = await handler(tokenEvent([...groups]));
    const session = hasuraSession(event!);

    const admin = groups.includes('chat-admin');
    const support = groups.includes('chat-support');
    // chat-admin is the Hasura role chat_admin: Hasura reserves `admin` for its unrestricted superuser.
    const expectedAllowed = ['user', ...(support ? ['support'] : []), ...(admin ? ['chat_admin'] : [])];
    const expectedDefault = admin ? 'chat_admin' : support ? 'support' : 'user';
    expect(session).toEqual({
      'x-hasura-user-id': SUB,
      'x-hasura-default-role': expectedDefault,
      'x-hasura-allowed-roles': expectedAllowed,
    });
    // Hasura rejects a token whose default role is not among the allowed roles.
    expect(session['x-hasura-allowed-roles']).toContain(session['x-hasura-default-role']);
  });

  it("never puts Hasura's reserved superuser role admin in the claims, for any group combination", async () => {
    // Every known group, plus names that look like admin to a careless mapping.
    const candidates = [...GROUPS, 'admin', 'chat_admin', 'Admin', 'hasura-admin'];
    const all = Array.from({ length: 1 << candidates.length }, (_, mask) => candidates.filter((_, i) => mask & (1 << i)));
    const roles = new Set<unknown>();
    for (const groups of all) {
      const session = hasuraSession((await handler(tokenEvent(groups)))!);
      roles.add(session['x-hasura-default-role']);
      for (const role of session['x-hasura-allowed-roles'] as unknown[]) roles.add(role);
    }
    expect([...roles].sort()).toEqual(['chat_admin', 'support', 'user']);
  });

  it('gives a user with no groups (groupsToOverride absent) the role user', async () => {
    const event = await handler(tokenEvent(undefined));
    expect(hasuraSession(event!)).toEqual({ 'x-hasura-user-id': SUB, 'x-hasura-default-role': 'user', 'x-hasura-allowed-roles': ['user'] });
  });

  it('ignores groups the chat does not know (the pool is shared with other Phenom apps)', async () => {
    const event = await handler(tokenEvent(['billing-admins', 'phenom-partners']));
    expect(hasuraSession(event!)['x-hasura-allowed-roles']).toEqual(['user']);
  });

  it.each(['TokenGeneration_HostedAuth', 'TokenGeneration_RefreshTokens', 'TokenGeneration_NewPasswordChallenge', 'TokenGeneration_AuthenticateDevice'] as const)(
    'adds the claims for %s too',
    async (triggerSource) => {
      const event = await handler(tokenEvent(['chat-support'], { triggerSource }));
      expect(hasuraSession(event!)['x-hasura-default-role']).toBe('support');
    },
  );

  it('keeps claims another part of the response already set', async () => {
    const input = tokenEvent([]);
    input.response = { claimsOverrideDetails: { claimsToAddOrOverride: { tenant: 'phenom' }, claimsToSuppress: ['custom:legacy'] } };
    const event = await handler(input);
    expect(event!.response.claimsOverrideDetails.claimsToAddOrOverride).toMatchObject({ tenant: 'phenom' });
    expect(event!.response.claimsOverrideDetails.claimsToSuppress).toEqual(['custom:legacy']);
  });

  describe('malformed events are logged and returned unchanged (the sign-in must not fail)', () => {
    let output: CapturedOutput;
    beforeEach(() => (output = capturePowertoolsOutput()));
    afterEach(() => output.restore());

    it.each([
      ['no sub', (e: Record<string, unknown>) => delete (e.request as { userAttributes: Record<string, string> }).userAttributes.sub],
      ['groups not a list', (e: Record<string, unknown>) => ((e.request as { groupConfiguration: unknown }).groupConfiguration = { groupsToOverride: 'chat-admin' })],
      ['a post-authentication trigger source', (e: Record<string, unknown>) => (e.triggerSource = 'PostAuthentication_Authentication')],
    ])('%s', async (_name, spoil) => {
      const input = tokenEvent(['chat-admin']) as unknown as Record<string, unknown>;
      spoil(input);
      const before = JSON.stringify(input);
      const event = await handler(input as never);
      expect(JSON.stringify(event)).toBe(before);
      expect(output.logs('malformed pre-token-generation event')).toEqual([expect.objectContaining({ level: 'ERROR', reason: expect.any(String) })]);
    });
  });
});
