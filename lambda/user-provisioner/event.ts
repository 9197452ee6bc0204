import { chatUserProfile } from '../../chat-domain/profile';

/** The user a post-authentication event is about. */
export interface SignedInUser {
  readonly userPoolId: string;
  /** Cognito's userName: what AdminListGroupsForUser takes. */
  readonly userName: string;
  /** users.id and x-hasura-user-id. */
  readonly sub: string;
  readonly username: string;
  readonly displayName: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim().length > 0 ? v.trim() : undefined);

/**
 * Reads a post-authentication event as the Cognito docs define it
 * (user-pool-lambda-post-authentication): triggerSource PostAuthentication_Authentication,
 * userPoolId, userName and request.userAttributes (sub, email, preferred_username, name).
 *
 * users.username and display_name come from chatUserProfile (chat-domain/profile.ts):
 * never the e-mail address, which every member could read.
 */
export function parsePostAuthenticationEvent(event: unknown): { ok: true; value: SignedInUser; clientId?: string } | { ok: false; reason: string } {
  if (!isRecord(event)) return { ok: false, reason: 'event is not an object' };
  if (event.triggerSource !== 'PostAuthentication_Authentication') {
    return { ok: false, reason: `triggerSource ${JSON.stringify(event.triggerSource)} is not PostAuthentication_Authentication` };
  }
  const userPoolId = text(event.userPoolId);
  const userName = text(event.userName);
  if (!userPoolId || !userName) return { ok: false, reason: 'userPoolId or userName is missing' };
  const request = event.request;
  if (!isRecord(request) || !isRecord(request.userAttributes)) return { ok: false, reason: 'request.userAttributes is missing' };
  const attributes = request.userAttributes;
  const sub = text(attributes.sub);
  if (!sub) return { ok: false, reason: 'request.userAttributes.sub is missing' };
  const profile = chatUserProfile({ email: text(attributes.email), preferred_username: text(attributes.preferred_username), name: text(attributes.name) }, userName);
  const clientId = isRecord(event.callerContext) ? text(event.callerContext.clientId) : undefined;
  return { ok: true, value: { userPoolId, userName, sub, username: profile.username, displayName: profile.displayName }, clientId };
}
