-- 002: serve keyset paging of message history from one index.
--
-- Why: history is paged by keyset, newest first:
--   WHERE room_id = $1 AND (created_at, id) < ($cursor_created_at, $cursor_id)
--   ORDER BY created_at DESC, id DESC LIMIT 50
-- created_at alone is not unique (a bulk insert shares one now()), so the cursor
-- needs id as a tie-breaker, and the index must carry it too; otherwise the last
-- step sorts every row with the same timestamp, and OFFSET-style cost creeps back.
-- With (room_id, created_at DESC, id DESC) a page is one index range scan of 50
-- entries at any depth (see `npm run bench:history`).
--
-- The seed's index name is kept (the seed calls it the primary query path) and its
-- definition is extended; keeping both would only double the write cost.
DROP INDEX IF EXISTS idx_chat_messages_room_created;
CREATE INDEX idx_chat_messages_room_created ON chat_messages (room_id, created_at DESC, id DESC);
