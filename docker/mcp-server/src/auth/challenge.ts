/** RFC 6750 §3 / MCP 2025-11-25 authorization: the WWW-Authenticate value of a 401 or 403. */
export function bearerChallenge(params: {
  resourceMetadataUrl: string;
  error?: 'invalid_token' | 'insufficient_scope';
  description?: string;
  scope?: string;
}): string {
  const parts = [`resource_metadata="${params.resourceMetadataUrl}"`];
  if (params.error) parts.push(`error="${params.error}"`);
  if (params.scope) parts.push(`scope="${params.scope}"`);
  // error_description may not contain '"' or '\' (RFC 6750 §3 grammar).
  if (params.description) parts.push(`error_description="${params.description.replace(/["\\]/g, "'")}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** RFC 9728 §3.1: the metadata of resource https://host/mcp lives at https://host/.well-known/oauth-protected-resource/mcp. */
export function protectedResourceMetadataUrl(resourceUrl: string): string {
  const u = new URL(resourceUrl);
  return `${u.origin}/.well-known/oauth-protected-resource${u.pathname === '/' ? '' : u.pathname}`;
}
