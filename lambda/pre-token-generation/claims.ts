import { entitlementsFor, HasuraRole } from '../../chat-domain/groups';

/** The claim Hasura reads (`claims_namespace`), with `claims_format: stringified_json` (contract C3). */
export const HASURA_CLAIMS_NAMESPACE = 'https://hasura.io/jwt/claims';

export interface HasuraClaims {
  readonly 'x-hasura-user-id': string;
  readonly 'x-hasura-default-role': HasuraRole;
  readonly 'x-hasura-allowed-roles': readonly HasuraRole[];
}

/**
 * The Hasura session claims of a Cognito user, from their `sub` and groups. The roles are
 * Hasura roles (chat-admin → chat_admin), never the membership role `admin`: Hasura would
 * treat that as its unrestricted superuser.
 */
export function hasuraClaims(sub: string, groups: readonly string[]): HasuraClaims {
  const { hasuraAllowedRoles, hasuraDefaultRole } = entitlementsFor(groups);
  return {
    'x-hasura-user-id': sub,
    'x-hasura-default-role': hasuraDefaultRole,
    'x-hasura-allowed-roles': hasuraAllowedRoles,
  };
}

/**
 * The claims to add to the ID token. A V1_0 trigger can only add string claims,
 * hence one claim holding the JSON text; Hasura JSON.parses it back.
 */
export function hasuraClaimsToAdd(sub: string, groups: readonly string[]): Record<string, string> {
  return { [HASURA_CLAIMS_NAMESPACE]: JSON.stringify(hasuraClaims(sub, groups)) };
}
