-- 010: serve chat_list_members pages from one index.
--
-- Why: a room can have tens of thousands of members, so the MCP server lists them a page at a time
-- (default 100, at most 500), by keyset in the order (joined_at, user_id):
--   WHERE room_id = $1 AND (joined_at, user_id) > ($cursor_joined_at, $cursor_user_id)
--   ORDER BY joined_at, user_id LIMIT 101
-- With the seed's (room_id) alone every page sorts the whole room first. As 002 did for message
-- history, the seed's index name is kept and its definition extended: (room_id, ...) still serves
-- every lookup by room, and two indexes would only double the write cost.
DROP INDEX IF EXISTS idx_chat_members_room;
CREATE INDEX idx_chat_members_room ON chat_members (room_id, joined_at, user_id);
