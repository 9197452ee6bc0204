import { matrixDisplayNameFor, OidcProfileClaims } from './matrix-identity';

/** The public profile a user has in Hasura Lite (users.username, users.display_name), which every role can read. */
export interface ChatUserProfile {
  readonly username: string;
  readonly displayName: string | null;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim().length > 0 ? v.trim() : undefined);

/**
 * The users row's public columns for a Cognito user. Neither is ever the e-mail address
 * (issue #13 item 7: every member can read both through Hasura, and the MCP tools show
 * display_name ?? username as the sender):
 * - username: preferred_username, else the e-mail's local part lower-cased (what the Matrix
 *   localpart is made from), else Cognito's userName (a UUID in pools that sign in by e-mail);
 * - display_name: what Synapse's display-name template gives the same user, so both backends
 *   show one name (name, else preferred_username, else that local part).
 */
export function chatUserProfile(claims: OidcProfileClaims, cognitoUserName: string): ChatUserProfile {
  const trimmed: OidcProfileClaims = {
    email: text(claims.email),
    preferred_username: text(claims.preferred_username),
    name: text(claims.name),
  };
  const emailLocalpart = trimmed.email ? text(trimmed.email.split('@')[0])?.toLowerCase() : undefined;
  return {
    username: trimmed.preferred_username ?? emailLocalpart ?? cognitoUserName,
    displayName: matrixDisplayNameFor(trimmed),
  };
}
