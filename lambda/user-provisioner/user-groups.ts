import { AdminListGroupsForUserCommand, CognitoIdentityProviderClient, CognitoIdentityProviderClientConfig } from '@aws-sdk/client-cognito-identity-provider';

/** A Cognito client for use inside a trigger: one retry at most, each attempt bounded to 1 s. */
export function createTriggerCognitoClient(overrides: CognitoIdentityProviderClientConfig = {}): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000 },
    ...overrides,
  });
}

/**
 * The names of every group the user is in. The post-authentication event carries
 * no groups (only the pre-token event does), so they are listed here; `abortSignal`
 * lets the caller's deadline cancel the request.
 */
export async function listUserGroups(cognito: CognitoIdentityProviderClient, user: { readonly userPoolId: string; readonly userName: string }, abortSignal?: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: user.userPoolId, Username: user.userName, Limit: 60, NextToken: nextToken }), { abortSignal });
    for (const group of page.Groups ?? []) if (group.GroupName) names.push(group.GroupName);
    nextToken = page.NextToken;
  } while (nextToken);
  return names;
}
