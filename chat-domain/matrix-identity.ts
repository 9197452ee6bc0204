/**
 * How a Cognito user becomes a Matrix user through Synapse's OIDC login, in one place: the
 * Jinja templates homeserver.yaml hands Synapse (lib/chat-synapse/homeserver-config.ts) and the
 * same mapping in TypeScript for the code that has to predict it (the membership reconciler, the
 * Hasura profile rows). Pure, no CDK imports, so Lambdas bundle it.
 * test/chat-domain/matrix-identity.test.ts renders the templates with Jinja2 and, where its
 * source is at hand, with Synapse's own JinjaOidcMappingProvider, and compares.
 */

/** The oidc_providers idp_id in homeserver.yaml. */
export const SYNAPSE_OIDC_IDP_ID = 'cognito';

/**
 * The auth_provider under which Synapse records an OIDC user's external id: Synapse prefixes
 * every OIDC idp_id with `oidc-` (synapse/config/oidc.py), and stores the `sub` claim
 * (JinjaOidcMappingProvider's default subject_claim) as the external id.
 */
export const SYNAPSE_AUTH_PROVIDER_ID = `oidc-${SYNAPSE_OIDC_IDP_ID}`;

/**
 * Cognito pools that sign in by e-mail have UUID usernames, so the localpart comes from
 * preferred_username when set, else the e-mail's local part; lower-cased because Matrix
 * localparts are lower case. Synapse then escapes what a localpart may not contain
 * (map_username_to_mxid_localpart) and, if that id is taken, appends 1, 2, ...
 */
const LOCALPART_SOURCE = "(user.preferred_username or user.email.split('@')[0]) | lower";

/** user_mapping_provider.config.localpart_template. */
export const SYNAPSE_LOCALPART_TEMPLATE = `{{ ${LOCALPART_SOURCE} }}`;

/**
 * user_mapping_provider.config.display_name_template. Never the e-mail address: every member of
 * every room sees a display name (issue #13 item 7). Without a name or preferred_username it is the
 * localpart source, which the Matrix id shows anyway. Never empty either: Synapse's
 * sso.update_profile_information only replaces a display name with a non-empty one, so an account
 * that got its e-mail as display name under the old template is corrected at its next login.
 */
export const SYNAPSE_DISPLAY_NAME_TEMPLATE = `{{ user.name or user.preferred_username or ${LOCALPART_SOURCE} }}`;

/** user_mapping_provider.config.email_template. */
export const SYNAPSE_EMAIL_TEMPLATE = '{{ user.email }}';

/** The claims the templates read (Cognito's ID token carries them as the user's attributes). */
export interface OidcProfileClaims {
  readonly sub?: string;
  readonly email?: string;
  readonly preferred_username?: string;
  readonly name?: string;
}

/** Python's str.strip(): the characters str.isspace() is true for (JS trim() differs at \x1c-\x1f, \x85 and \ufeff). */
const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const pyStrip = (s: string): string => s.replace(new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g'), '');

/** Jinja truthiness for a claim: missing, null and '' are false. */
const truthy = (v: string | undefined): v is string => typeof v === 'string' && v.length > 0;

/**
 * What LOCALPART_SOURCE renders to, or undefined where Synapse's render fails (no
 * preferred_username and no e-mail: `user.email.split` on an undefined claim raises, and Synapse
 * refuses the login, so no account can exist).
 */
function localpartSource(claims: OidcProfileClaims): string | undefined {
  if (truthy(claims.preferred_username)) return claims.preferred_username.toLowerCase();
  if (typeof claims.email !== 'string') return undefined;
  return claims.email.split('@')[0].toLowerCase();
}

/** Which Synapse the mapping is predicted for. */
export interface MxidMappingOptions {
  /**
   * Synapse 1.89 added '+' to the characters a localpart may hold; older versions escape it as =2b.
   * @default true (the production image is Synapse 1.142)
   */
  readonly plusAllowed?: boolean;
}

/**
 * Synapse's map_username_to_mxid_localpart (synapse/types): lower-case ASCII, every UTF-8 byte
 * outside a-z 0-9 _ - . / (and + since 1.89) written as =xx (so '=' itself too), and a leading '_' as =5f.
 */
export function mapUsernameToMxidLocalpart(username: string, options: MxidMappingOptions = {}): string {
  const allowed = options.plusAllowed === false ? /[a-z0-9_\-./]/ : /[a-z0-9_\-./+]/;
  let out = '';
  for (const byte of Buffer.from(username, 'utf8')) {
    const lower = byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
    const c = String.fromCharCode(lower);
    out += allowed.test(c) ? c : `=${lower.toString(16).padStart(2, '0')}`;
  }
  return out.replace(/^_/, '=5f');
}

/**
 * The localpart Synapse gives this user at their first SSO login when that Matrix id is free
 * (a taken id gets a number appended: see matrixLocalpartCandidates), or undefined when Synapse
 * could not map them at all.
 */
export function matrixLocalpartFor(claims: OidcProfileClaims, options: MxidMappingOptions = {}): string | undefined {
  const source = localpartSource(claims);
  if (source === undefined) return undefined;
  const localpart = mapUsernameToMxidLocalpart(pyStrip(source), options);
  return localpart === '' ? undefined : localpart;
}

/** The Matrix ids Synapse may have given the user, in the order it tries them: `@a:s`, `@a1:s`, `@a2:s`, ... */
export function matrixUserIdCandidates(claims: OidcProfileClaims, serverName: string, count: number, options: MxidMappingOptions = {}): string[] {
  const localpart = matrixLocalpartFor(claims, options);
  if (localpart === undefined) return [];
  return Array.from({ length: count }, (_, failures) => `@${localpart}${failures ? failures : ''}:${serverName}`);
}

/** What SYNAPSE_DISPLAY_NAME_TEMPLATE renders to (null where Synapse sets none). */
export function matrixDisplayNameFor(claims: OidcProfileClaims): string | null {
  const rendered = truthy(claims.name) ? claims.name : truthy(claims.preferred_username) ? claims.preferred_username : localpartSource(claims);
  if (rendered === undefined) return null;
  const stripped = pyStrip(rendered);
  return stripped === '' ? null : stripped;
}
