import * as z from 'zod/mini';

/**
 * The JSON held by the Phenom credentials secret (`linkPreview.phenomCredentialsSecretArn`).
 * Exactly one key decides how the Lambda authenticates to the Phenom Hasura:
 * - `{"adminSecret": "..."}` sends `x-hasura-admin-secret: ...`; add `"role": "..."`
 *   to also send `x-hasura-role`, so the query runs with that role's permissions
 *   instead of admin's (recommended: a read-only role on the content table).
 * - `{"bearerToken": "..."}` sends `Authorization: Bearer ...` (a long-lived JWT or
 *   API token that the Phenom Hasura's JWT/webhook auth accepts).
 */
const credentialsSchema = z.object({
  adminSecret: z.optional(z.string().check(z.minLength(1))),
  bearerToken: z.optional(z.string().check(z.minLength(1))),
  role: z.optional(z.string().check(z.minLength(1))),
});

/** The HTTP headers that authenticate a request to the Phenom GraphQL API. */
export function phenomCredentialHeaders(secret: unknown): Record<string, string> {
  const parsed = credentialsSchema.safeParse(secret);
  if (!parsed.success) {
    throw new Error('the Phenom credentials secret must be a JSON object with string values (adminSecret, bearerToken, role)');
  }
  const { adminSecret, bearerToken, role } = parsed.data;
  if ((adminSecret === undefined) === (bearerToken === undefined)) {
    throw new Error('the Phenom credentials secret must hold exactly one of "adminSecret" or "bearerToken"');
  }
  if (bearerToken !== undefined) {
    if (role !== undefined) throw new Error('"role" in the Phenom credentials secret only applies with "adminSecret"; a bearer token carries its own role');
    return { authorization: `Bearer ${bearerToken}` };
  }
  return { 'x-hasura-admin-secret': adminSecret!, ...(role ? { 'x-hasura-role': role } : {}) };
}
