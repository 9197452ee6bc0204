import { AdminGetUserCommand, CognitoIdentityProviderClient, ListUsersCommand, ListUsersInGroupCommand, UserNotFoundException, type AttributeType } from '@aws-sdk/client-cognito-identity-provider';
import { CHAT_GROUPS } from '../../chat-domain/groups';
import type { OidcProfileClaims } from '../../chat-domain/matrix-identity';
import { listUserGroups } from '../user-provisioner/user-groups';

/** A pool user as the reconciler needs them. */
export interface DirectoryUser {
  /** Cognito's userName (AdminGetUser / AdminListGroupsForUser take it). */
  readonly userName: string;
  /** users.id and the external id Synapse records for the user. */
  readonly sub: string;
  readonly claims: OidcProfileClaims;
  /** False for a user with no chat entitlements at all (see `isEntitled`). */
  readonly entitled: boolean;
  /** The user's chat groups (groups of other apps are left out). */
  readonly groups: readonly string[];
}

const ATTRIBUTES = ['sub', 'email', 'preferred_username', 'name'];
const CHAT_GROUP_NAMES: readonly string[] = Object.values(CHAT_GROUPS).map((g) => g.name);

/**
 * Disabled users and users who never confirmed their sign-up are entitled to nothing: a disabled
 * account is how an operator locks someone out, and their Matrix sessions outlive Cognito's.
 */
export function isEntitled(enabled: boolean | undefined, status: string | undefined): boolean {
  return enabled !== false && status !== 'UNCONFIRMED';
}

function toUser(userName: string, attributes: readonly AttributeType[] | undefined, entitled: boolean, groups: readonly string[]): DirectoryUser | undefined {
  const a = Object.fromEntries((attributes ?? []).map((x) => [x.Name, x.Value]));
  if (!a.sub) return undefined;
  return { userName, sub: a.sub, claims: { sub: a.sub, email: a.email, preferred_username: a.preferred_username, name: a.name }, entitled, groups };
}

/**
 * Every user of the pool with their chat groups: ListUsers (60 a page, only the four attributes)
 * plus ListUsersInGroup for each chat group, so the calls grow with pages, not with users
 * (AdminListGroupsForUser per user would be one call per user against the account's shared
 * Cognito request quota). Pages may be shorter than Limit; only a missing token ends a list.
 * Throws on any error: a partial listing must never be taken for the whole pool.
 */
export async function listDirectory(cognito: CognitoIdentityProviderClient, userPoolId: string): Promise<DirectoryUser[]> {
  const groupsOf = new Map<string, string[]>();
  for (const group of CHAT_GROUP_NAMES) {
    let token: string | undefined;
    do {
      const page = await cognito.send(new ListUsersInGroupCommand({ UserPoolId: userPoolId, GroupName: group, Limit: 60, NextToken: token }));
      for (const u of page.Users ?? []) if (u.Username) groupsOf.set(u.Username, [...(groupsOf.get(u.Username) ?? []), group]);
      token = page.NextToken;
    } while (token);
  }
  const users: DirectoryUser[] = [];
  let token: string | undefined;
  do {
    const page = await cognito.send(new ListUsersCommand({ UserPoolId: userPoolId, AttributesToGet: ATTRIBUTES, Limit: 60, PaginationToken: token }));
    for (const u of page.Users ?? []) {
      const user = u.Username ? toUser(u.Username, u.Attributes, isEntitled(u.Enabled, u.UserStatus), groupsOf.get(u.Username) ?? []) : undefined;
      if (user) users.push(user);
    }
    token = page.PaginationToken;
  } while (token);
  return users;
}

/** One user (AdminGetUser + AdminListGroupsForUser), or undefined when the pool has no such user. */
export async function getDirectoryUser(cognito: CognitoIdentityProviderClient, userPoolId: string, userName: string): Promise<DirectoryUser | undefined> {
  let got;
  try {
    got = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: userName }));
  } catch (err) {
    if (err instanceof UserNotFoundException) return undefined;
    throw err;
  }
  const groups = (await listUserGroups(cognito, { userPoolId, userName })).filter((g) => CHAT_GROUP_NAMES.includes(g));
  return toUser(got.Username ?? userName, got.UserAttributes, isEntitled(got.Enabled, got.UserStatus), groups);
}
