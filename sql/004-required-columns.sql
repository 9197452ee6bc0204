-- 004: NOT NULL on the columns whose default is their only sensible value.
--
-- Why: the seed gives these columns defaults but allows NULL, and a NULL in any of
-- them has no meaning and breaks a rule somewhere:
--   - created_at NULL sorts outside every keyset page (history ordering, 002);
--   - is_active / is_muted / is_deleted NULL is neither true nor false, so the chat
--     rules (008) and Hasura's "non-deleted" filter would each guess;
--   - message_type NULL passes the IN check but is no type at all;
--   - role NULL passes the IN check but grants no role;
--   - banned_at NULL would make a ban's period start at -infinity (007).
-- Existing NULLs (a database adopted from the seed's original SQL) take the default first.
UPDATE chat_rooms SET created_at = now() WHERE created_at IS NULL;
UPDATE chat_rooms SET is_active = true WHERE is_active IS NULL;
ALTER TABLE chat_rooms
  ALTER COLUMN created_at SET NOT NULL,
  ALTER COLUMN is_active SET NOT NULL;

UPDATE chat_messages SET message_type = 'text' WHERE message_type IS NULL;
UPDATE chat_messages SET is_deleted = false WHERE is_deleted IS NULL;
UPDATE chat_messages SET created_at = now() WHERE created_at IS NULL;
UPDATE chat_messages SET updated_at = created_at WHERE updated_at IS NULL;
ALTER TABLE chat_messages
  ALTER COLUMN message_type SET NOT NULL,
  ALTER COLUMN is_deleted SET NOT NULL,
  ALTER COLUMN created_at SET NOT NULL,
  ALTER COLUMN updated_at SET NOT NULL;

UPDATE chat_members SET role = 'user' WHERE role IS NULL;
UPDATE chat_members SET is_muted = false WHERE is_muted IS NULL;
UPDATE chat_members SET joined_at = now() WHERE joined_at IS NULL;
ALTER TABLE chat_members
  ALTER COLUMN role SET NOT NULL,
  ALTER COLUMN is_muted SET NOT NULL,
  ALTER COLUMN joined_at SET NOT NULL;

UPDATE chat_bans SET banned_at = now() WHERE banned_at IS NULL;
ALTER TABLE chat_bans ALTER COLUMN banned_at SET NOT NULL;

UPDATE link_previews SET resolved_at = now() WHERE resolved_at IS NULL;
ALTER TABLE link_previews ALTER COLUMN resolved_at SET NOT NULL;
