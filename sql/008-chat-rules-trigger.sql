-- 008: the chat rules, enforced by the database on every new message.
--
-- Why: messages reach chat_messages through Hasura, the MCP server's postgres backend
-- and Lambdas; enforcing the rules here holds every path to them (DESIGN.md decision 5).
-- Each rule raises its own SQLSTATE, and the message starts with a stable token
-- (contract C1), so callers can tell the user which rule fired. The codes are in
-- class 23 (integrity constraint violation) on purpose: Hasura passes class 22/23
-- errors and their messages through to every role, while any other class reaches a
-- non-admin client only as "database query error".
--   23C04 'room_inactive: '  the room's is_active is false
--   23C01 'not_member: '     the sender has no chat_members row in the room
--   23C03 'banned: '         a chat_bans row with expires_at null or in the future
--   23C02 'muted: '          is_muted and (muted_until null or in the future)
-- Checked in that order: a closed room refuses everyone; then membership; a ban is
-- stronger than a mute. Expired mutes and bans stop applying by time alone: nothing
-- has to reset is_muted or delete the ban row. now() is the transaction's start time.
--
-- An unknown room or user is left to the foreign keys (23503, contract C1): FK checks
-- run after this BEFORE trigger, so the trigger lets such a row through to them.
CREATE OR REPLACE FUNCTION chat_messages_enforce_rules() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  room   chat_rooms%ROWTYPE;
  member chat_members%ROWTYPE;
  ban    chat_bans%ROWTYPE;
BEGIN
  SELECT * INTO room FROM chat_rooms WHERE id = NEW.room_id;
  IF NOT FOUND THEN
    RETURN NEW; -- chat_messages_room_id_fkey reports it
  END IF;

  IF NOT room.is_active THEN
    RAISE EXCEPTION 'room_inactive: room "%" does not accept new messages', room.name
      USING ERRCODE = '23C04', HINT = 'An admin can reactivate the room (chat_rooms.is_active).';
  END IF;

  IF NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id) THEN
    RETURN NEW; -- chat_messages_user_id_fkey reports it
  END IF;

  SELECT * INTO member FROM chat_members WHERE room_id = NEW.room_id AND user_id = NEW.user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'not_member: user % is not a member of room "%"', NEW.user_id, room.name
      USING ERRCODE = '23C01';
  END IF;

  SELECT * INTO ban FROM chat_bans
  WHERE room_id = NEW.room_id AND user_id = NEW.user_id
    AND banned_at <= now() AND (expires_at IS NULL OR expires_at > now())
  ORDER BY banned_at DESC
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'banned: user % is banned from room "%" %', NEW.user_id, room.name,
      CASE WHEN ban.expires_at IS NULL THEN 'permanently' ELSE 'until ' || to_char(ban.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END
      USING ERRCODE = '23C03';
  END IF;

  IF member.is_muted AND (member.muted_until IS NULL OR member.muted_until > now()) THEN
    RAISE EXCEPTION 'muted: user % is muted in room "%" %', NEW.user_id, room.name,
      CASE WHEN member.muted_until IS NULL THEN 'indefinitely' ELSE 'until ' || to_char(member.muted_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END
      USING ERRCODE = '23C02';
  END IF;

  RETURN NEW;
END;
$$;

CREATE TRIGGER chat_messages_enforce_rules
  BEFORE INSERT ON chat_messages
  FOR EACH ROW EXECUTE FUNCTION chat_messages_enforce_rules();
