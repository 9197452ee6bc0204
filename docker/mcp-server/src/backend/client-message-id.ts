import { ChatError, type Message, type MessageType } from './types';

/**
 * What a retried send (same client_message_id, found already stored) answers, on every backend:
 * the original message. A key reused for a different message is a caller bug that would otherwise
 * pass silently (the agent would believe its new text was posted), so it is refused instead. A
 * deleted original is returned as it is: a moderator removed it, a retry must not bring it back,
 * and a Matrix redaction has erased the content there is to compare.
 */
export function originalForRetry(original: Message, sent: { content: string; messageType: MessageType; phenomId?: string }, clientMessageId: string): Message {
  const same = original.content === sent.content && original.messageType === sent.messageType && original.phenomId === (sent.phenomId ?? null);
  if (same || original.isDeleted) return original;
  throw new ChatError(
    'invalid_input',
    `client_message_id "${clientMessageId}" was already used for another message in this room (${original.id}), so nothing was sent. ` +
      'Use a new client_message_id for every new message, and the same one only to retry that message unchanged.',
  );
}
