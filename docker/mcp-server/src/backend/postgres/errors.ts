import type { DatabaseError } from 'pg';
import { MAX_MESSAGE_CHARS } from '../content';
import { ChatError } from '../types';

/** The chat rules trigger's SQLSTATEs (contract C1) → tool error codes. */
const RULES: Record<string, { code: 'not_member' | 'muted' | 'banned' | 'room_inactive'; advice: string }> = {
  '23C01': { code: 'not_member', advice: 'Only members can post; an admin has to add the agent to the room.' },
  '23C02': { code: 'muted', advice: 'Wait until the mute ends, or unmute with chat_unmute_user.' },
  '23C03': { code: 'banned', advice: 'Wait until the ban ends, or lift it with chat_unban_user.' },
  '23C04': { code: 'room_inactive', advice: 'The room no longer accepts messages; post in an active room (see chat_list_rooms).' },
};

// Connection-level failures: the database is down, restarting, or unreachable.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0)/;
/** pg-pool's message for a checkout that waited connectionTimeoutMillis for a busy pool (pg-pool/index.js, connect()). */
const POOL_EXHAUSTED = 'timeout exceeded when trying to connect';
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

function isDatabaseError(err: unknown): err is DatabaseError {
  return err instanceof Error && typeof (err as DatabaseError).code === 'string' && 'severity' in err;
}

/**
 * Turns a pg error into a ChatError with a sentence the agent can act on. Unknown errors are
 * rethrown unchanged (the tool layer logs them and answers with a generic message).
 */
export function toChatError(err: unknown): unknown {
  if (err instanceof ChatError) return err;
  if (isDatabaseError(err)) {
    const rule = RULES[err.code ?? ''];
    if (rule) {
      // The trigger's message is "<token>: <sentence>"; keep the sentence, add what to do.
      const sentence = err.message.replace(/^[a-z_]+:\s*/, '');
      return new ChatError(rule.code, `${sentence}. ${rule.advice}`);
    }
    switch (err.code) {
      case '23514':
        if (err.constraint === 'chat_messages_content_check')
          return new ChatError('content_too_long', `The message is longer than ${MAX_MESSAGE_CHARS} characters. Shorten it or split it into several messages.`);
        if (err.constraint === 'chat_messages_phenom_link_requires_phenom_id') return new ChatError('invalid_input', 'A phenom_link message needs a phenom_id.');
        return new ChatError('invalid_input', `The database rejected the values (${err.constraint ?? 'check constraint'}).`);
      case '23503':
        if (err.constraint?.endsWith('room_id_fkey')) return new ChatError('room_not_found', 'Room not found: no room has that id. Call chat_list_rooms for the room ids.');
        return new ChatError('user_not_found', 'User not found: no user has that id. Call chat_list_members for the user ids.');
      case '23P01':
        return new ChatError('invalid_input', 'The user is already banned from this room. Lift the current ban with chat_unban_user first to change its terms.');
      case '22P02':
        return new ChatError('invalid_input', 'An id is malformed. Use the ids exactly as the chat tools return them.');
      case '22021':
        return new ChatError('invalid_input', 'A value contains a character the database cannot store (such as NUL, U+0000). Remove it and call again.');
      case '57014':
        return new ChatError('backend_unavailable', 'The database took too long to answer. Try again in a moment.');
    }
    // Any other data exception (out-of-range timestamp or number, bad format) is about the values
    // sent, never the database's health: retrying the same call cannot help.
    if (err.code?.startsWith('22')) return new ChatError('invalid_input', 'The database rejected a value as out of range or malformed. Use values exactly as the chat tools return them.');
    // FATAL/PANIC end the session (refused login, database not accepting connections, shutdown).
    if (UNAVAILABLE_SQLSTATE.test(err.code ?? '') || err.severity === 'FATAL' || err.severity === 'PANIC')
      return new ChatError('backend_unavailable', 'The chat database is unavailable right now. Try again in a moment.');
    return err;
  }
  // pg-pool's error when every pooled client stayed busy for connectionTimeoutMillis: the queue
  // timed out, no connection was attempted, so nothing says the database is down.
  if (err instanceof Error && err.message === POOL_EXHAUSTED) {
    return new ChatError('backend_busy', "All of this server's database connections are busy with other requests, so the call did not run. Try again in a moment.");
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_NODE.has(code)) return new ChatError('backend_unavailable', 'The chat database is unreachable right now. Try again in a moment.');
  if (err instanceof Error && /timeout|Connection terminated/i.test(err.message)) {
    return new ChatError('backend_unavailable', 'The chat database is unreachable right now. Try again in a moment.');
  }
  return err;
}
