-- 007: at most one ban in force per (room, user) at any moment.
--
-- Why: with two overlapping bans "unban" becomes ambiguous (delete which one?) and
-- the effective expiry is whichever is latest, which no moderator sees. "Active" means
-- expires_at is null or in the future, and now() cannot appear in an index predicate,
-- so the rule is stated over time instead: the periods [banned_at, expires_at) of one
-- member's bans in one room may not overlap (a NULL upper bound is +infinity). At any
-- instant, then, at most one ban applies; a new ban after an old one expired is fine.
--
-- Ban design (contract C1):
--   - A ban does NOT touch the chat_members row: role, mute state and joined_at survive,
--     so an unban restores exactly what was there. While a ban is in force the chat
--     rules trigger (008) rejects the member's messages with SQLSTATE 23C03.
--   - Unban = DELETE the ban row(s) in force; an expired ban simply stops applying
--     (nobody has to touch it) and stays as history.
--   - Re-banning someone who is banned raises 23P01 exclusion_violation with constraint
--     chat_bans_one_active_per_member: delete the current ban first to change its terms.
--   - A ban must end after it starts (chat_bans_expires_after_banned_at, 23514); an
--     empty period would slip past the exclusion and ban nobody.
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE chat_bans
  ADD CONSTRAINT chat_bans_expires_after_banned_at CHECK (expires_at IS NULL OR expires_at > banned_at);

ALTER TABLE chat_bans
  ADD CONSTRAINT chat_bans_one_active_per_member
  EXCLUDE USING gist (room_id WITH =, user_id WITH =, tstzrange(banned_at, expires_at, '[)') WITH &&);
