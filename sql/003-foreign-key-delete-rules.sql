-- 003: choose the ON DELETE behaviour of every foreign key on purpose.
--
-- Why: the seed leaves every FK at the default (NO ACTION), which nobody chose.
-- The rule here: history and audit records are never deleted as a side effect.
--   chat_messages.room_id   RESTRICT  a room with history is deactivated (is_active = false), not deleted
--   chat_messages.user_id   RESTRICT  deleting a user must not silently erase what they said
--   chat_messages.deleted_by SET NULL the message stays soft-deleted; only who deleted it is forgotten
--   chat_members.room_id    CASCADE   a membership means nothing without its room (and a room with
--                                     messages cannot be deleted anyway, see above)
--   chat_members.user_id    CASCADE   a deleted user's memberships go with them (their messages block it first)
--   chat_bans.room_id       CASCADE   as for memberships
--   chat_bans.user_id       CASCADE   a ban of a user who no longer exists protects nobody
--   chat_bans.banned_by     RESTRICT  the moderation audit trail keeps who banned; banned_by is NOT NULL
-- RESTRICT (not NO ACTION) so the error is raised at the statement, even in deferred transactions.
ALTER TABLE chat_messages
  DROP CONSTRAINT chat_messages_room_id_fkey,
  ADD CONSTRAINT chat_messages_room_id_fkey FOREIGN KEY (room_id) REFERENCES chat_rooms (id) ON DELETE RESTRICT,
  DROP CONSTRAINT chat_messages_user_id_fkey,
  ADD CONSTRAINT chat_messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT,
  DROP CONSTRAINT chat_messages_deleted_by_fkey,
  ADD CONSTRAINT chat_messages_deleted_by_fkey FOREIGN KEY (deleted_by) REFERENCES users (id) ON DELETE SET NULL;

ALTER TABLE chat_members
  DROP CONSTRAINT chat_members_room_id_fkey,
  ADD CONSTRAINT chat_members_room_id_fkey FOREIGN KEY (room_id) REFERENCES chat_rooms (id) ON DELETE CASCADE,
  DROP CONSTRAINT chat_members_user_id_fkey,
  ADD CONSTRAINT chat_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;

ALTER TABLE chat_bans
  DROP CONSTRAINT chat_bans_room_id_fkey,
  ADD CONSTRAINT chat_bans_room_id_fkey FOREIGN KEY (room_id) REFERENCES chat_rooms (id) ON DELETE CASCADE,
  DROP CONSTRAINT chat_bans_user_id_fkey,
  ADD CONSTRAINT chat_bans_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  DROP CONSTRAINT chat_bans_banned_by_fkey,
  ADD CONSTRAINT chat_bans_banned_by_fkey FOREIGN KEY (banned_by) REFERENCES users (id) ON DELETE RESTRICT;
