/** What the handler needs from a V1_0 pre-token-generation event. */
export interface TokenRequest {
  readonly sub: string;
  readonly groups: readonly string[];
}

const TRIGGER_SOURCES = new Set([
  'TokenGeneration_HostedAuth',
  'TokenGeneration_Authentication',
  'TokenGeneration_NewPasswordChallenge',
  'TokenGeneration_AuthenticateDevice',
  'TokenGeneration_RefreshTokens',
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a pre-token-generation event as the Cognito docs define it
 * (user-pool-lambda-pre-token-generation, version 1): triggerSource,
 * request.userAttributes.sub and request.groupConfiguration.groupsToOverride.
 * Returns the reason instead when the event is not one.
 */
export function parseTokenEvent(event: unknown): { ok: true; value: TokenRequest } | { ok: false; reason: string } {
  if (!isRecord(event)) return { ok: false, reason: 'event is not an object' };
  if (typeof event.triggerSource !== 'string' || !TRIGGER_SOURCES.has(event.triggerSource)) {
    return { ok: false, reason: `triggerSource ${JSON.stringify(event.triggerSource)} is not a pre-token-generation source` };
  }
  const request = event.request;
  if (!isRecord(request) || !isRecord(request.userAttributes)) return { ok: false, reason: 'request.userAttributes is missing' };
  const sub = request.userAttributes.sub;
  if (typeof sub !== 'string' || sub.length === 0) return { ok: false, reason: 'request.userAttributes.sub is missing' };
  // Cognito omits or empties groupsToOverride for a user in no group.
  const groupConfiguration = request.groupConfiguration;
  const groups = isRecord(groupConfiguration) ? (groupConfiguration.groupsToOverride ?? []) : [];
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
    return { ok: false, reason: 'request.groupConfiguration.groupsToOverride is not a list of group names' };
  }
  return { ok: true, value: { sub, groups } };
}
