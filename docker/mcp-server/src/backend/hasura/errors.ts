import { MAX_MESSAGE_CHARS } from '../content';
import { ChatError } from '../types';
import { HasuraGraphQLError } from '../../../../../chat-clients/hasura-client';

export { HasuraGraphQLError } from '../../../../../chat-clients/hasura-client';

/** What the backend knows about the call when it maps an error, for sentences an agent can act on. */
export interface ErrorContext {
  readonly roomId?: string;
  readonly userId?: string;
}

const CHAT_RULES: Record<string, { code: 'not_member' | 'muted' | 'banned' | 'room_inactive'; token: string }> = {
  '23C01': { code: 'not_member', token: 'not_member: ' },
  '23C02': { code: 'muted', token: 'muted: ' },
  '23C03': { code: 'banned', token: 'banned: ' },
  '23C04': { code: 'room_inactive', token: 'room_inactive: ' },
};

/** The chat rule (contract C1) behind a constraint-violation: Hasura passes the trigger's message on bare, stable token first. */
function chatRule(code: string | undefined, message: string): (typeof CHAT_RULES)[string] | undefined {
  if (code !== 'constraint-violation') return undefined;
  return Object.values(CHAT_RULES).find((rule) => message.startsWith(rule.token));
}

const RULE_ADVICE: Record<string, string> = {
  not_member: 'The agent account must be a member of the room to post; ask an administrator to add it.',
  muted: 'The agent account is muted in this room; unmute it or wait for the mute to end.',
  banned: 'The agent account is banned from this room; lift the ban first.',
  room_inactive: 'The room is inactive and accepts no new messages.',
};

/**
 * Maps a Hasura error to a ChatError, or returns undefined when Hasura hid the cause
 * ("database query error") so the caller can diagnose it.
 */
export function mapHasuraError(error: HasuraGraphQLError, ctx: ErrorContext = {}): ChatError | undefined {
  const code = error.code;
  const message = error.message0;

  const rule = chatRule(code, message);
  if (rule) return new ChatError(rule.code, `${message.slice(rule.token.length)}. ${RULE_ADVICE[rule.code]}`);

  // Integrity errors keep Hasura's prefix ("Check constraint violation. ", "Foreign key violation. " ...).
  if (code === 'permission-error' && message.startsWith('Check constraint violation. ')) {
    if (/content/.test(message)) return new ChatError('content_too_long', `The message is longer than ${MAX_MESSAGE_CHARS} characters; shorten it or split it into several messages.`);
    if (/phenom_id/.test(message)) return new ChatError('invalid_input', 'A phenom_link message needs a phenom_id.');
    if (/message_type/.test(message)) return new ChatError('invalid_input', 'message_type must be "text" or "phenom_link".');
    if (/expires/.test(message)) return new ChatError('invalid_input', 'A ban must end after it starts; give a positive duration.');
    return new ChatError('invalid_input', `The database rejected the values: ${message}`);
  }
  if (code === 'constraint-violation' && message.startsWith('Foreign key violation. ')) {
    if (/room_id_fkey/.test(message)) return new ChatError('room_not_found', `room not found: ${ctx.roomId ?? 'unknown id'}. List rooms with chat_list_rooms.`);
    if (/user_id_fkey/.test(message)) return new ChatError('user_not_found', `user not found: ${ctx.userId ?? 'unknown id'}.`);
    return new ChatError('invalid_input', `A referenced record does not exist: ${message}`);
  }
  if (code === 'constraint-violation' && message.startsWith('Exclusion violation. ')) {
    const who = ctx.userId ? `user ${ctx.userId}` : 'the user';
    return new ChatError('invalid_input', `${who} is already banned in this room; unban first to change the ban's terms.`);
  }
  if (code === 'constraint-violation' && message.startsWith('Uniqueness violation. ')) {
    return new ChatError('invalid_input', `The record already exists: ${message}`);
  }
  if (code === 'data-exception' || code === 'bad-request') {
    return new ChatError('invalid_input', `Invalid value: ${message}`);
  }
  // Hasura's own permission checks: an insert/update check, a role without the field, or a role not allowed.
  if (code === 'permission-error' || code === 'access-denied' || (code === 'validation-failed' && /not found in type/.test(message))) {
    return new ChatError('forbidden', `The agent account's Hasura role may not do this (${message}); it must be in the chat-admin group.`);
  }
  if (code === 'invalid-jwt' || code === 'invalid-headers' || code === 'jwt-invalid-claims') {
    return new ChatError('backend_unavailable', "Hasura did not accept the agent account's token; check the Hasura JWT configuration and the agent credentials.");
  }
  // "database query error": the cause is hidden outside dev mode, so the caller diagnoses it.
  if (code === 'unexpected') return undefined;
  return new ChatError('backend_unavailable', 'Hasura could not complete the request; try again shortly.');
}
