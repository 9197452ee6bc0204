import { MAX_MESSAGE_CHARS } from '../../../../chat-domain/content';
import { ChatError } from './types';

export { MAX_MESSAGE_CHARS };

/** Refuses, before any backend call, a message the schema would refuse. */
export function requireWithinContentLimit(content: string): void {
  const length = [...content].length;
  if (length > MAX_MESSAGE_CHARS) throw new ChatError('content_too_long', `The message has ${length} characters; the limit is ${MAX_MESSAGE_CHARS}. Shorten it or split it.`);
}
