import { ChatError } from './types';

/**
 * The longest message, in characters (code points): the chat schema's CHECK on
 * chat_messages.content, which the Matrix backend holds to as well so both behave alike.
 */
export const MAX_MESSAGE_CHARS = 4000;

/** Refuses, before any backend call, a message the schema would refuse. */
export function requireWithinContentLimit(content: string): void {
  const length = [...content].length;
  if (length > MAX_MESSAGE_CHARS) throw new ChatError('content_too_long', `The message has ${length} characters; the limit is ${MAX_MESSAGE_CHARS}. Shorten it or split it.`);
}
