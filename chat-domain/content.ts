/**
 * The longest chat message, in characters (code points): sql/001's CHECK on chat_messages.content
 * (char_length(content) <= 4000). The MCP server refuses a longer one before any backend call, and
 * its Matrix backend holds to the same limit so every backend behaves alike.
 */
export const MAX_MESSAGE_CHARS = 4000;
