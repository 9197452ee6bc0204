-- 009: a caller-chosen key that makes sending a message idempotent.
--
-- Why: when a send's response is lost (the MCP task is killed, or SIGTERM outlasts the grace
-- period), the message is already committed and a retry posted it again. A sender now may name
-- the message with client_message_id; a second insert with the same key finds the first row
-- instead of adding one (the MCP server: ON CONFLICT ... DO NOTHING, then reads the original;
-- Hasura: on_conflict with update_columns: []).
--
-- Scope: unique per (room, sender). That is the scope Matrix gives a transaction id (Synapse keys
-- it by room, user, device and txn id), so the synapse backend, which uses the key as its
-- transaction id, behaves the same; and two senders can never collide, nor can the key from one
-- room's send touch another room's message.
--
-- A UNIQUE constraint, not a unique index: Hasura offers only constraints (pg_constraint) as
-- on_conflict targets. NULLs are distinct in it, so messages without a key (every existing row,
-- every app message that does not set one) never conflict. Raises 23505 unique_violation with
-- constraint chat_messages_room_id_user_id_client_message_id_key (the name PostgreSQL would
-- give it). Adding the constraint builds its index under the migration's lock.
ALTER TABLE chat_messages ADD COLUMN client_message_id TEXT;

ALTER TABLE chat_messages
  ADD CONSTRAINT chat_messages_client_message_id_check
  CHECK (client_message_id IS NULL OR char_length(client_message_id) BETWEEN 1 AND 128);

ALTER TABLE chat_messages
  ADD CONSTRAINT chat_messages_room_id_user_id_client_message_id_key UNIQUE (room_id, user_id, client_message_id);
